import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { emit, EXIT, text, UsageError, type Verb } from './common.js';

export const compactVerb: Verb = {
  usage: 'holdfast lane compact [--db PATH] [--json]',
  options: {},
  async run(ctx) {
    const result = await ctx.lanes.compact();
    emit(ctx, result, `compacted ${result.recordsBefore} record(s) to ${result.recordsAfter} (watermark seq ${result.watermark})`);
    return EXIT.done;
  },
};

export const exportVerb: Verb = {
  usage: 'holdfast lane export --jsonl [--out FILE] [--db PATH]',
  options: { jsonl: { type: 'boolean' }, out: { type: 'string' } },
  readOnly: true,
  async run(ctx) {
    if (ctx.values.jsonl !== true) throw new UsageError('--jsonl is required (the only export format)');
    const body = await ctx.lanes.exportJsonl();
    const out = text(ctx.values, 'out');
    if (out === undefined) ctx.io.stdout(body);
    else await writeFile(resolve(ctx.io.cwd, out), body);
    return EXIT.done;
  },
};

export const importVerb: Verb = {
  usage: 'holdfast lane import FILE [--db PATH] [--json]',
  options: {},
  allowPositionals: true,
  async run(ctx) {
    const [file, ...rest] = ctx.positionals;
    if (file === undefined || rest.length > 0)
      throw new UsageError('FILE: pass exactly one export file (from holdfast lane export --jsonl)');
    const body = await readFile(resolve(ctx.io.cwd, file), 'utf8');
    const result = await ctx.lanes.importJsonl(body, file);
    emit(
      ctx,
      result,
      `imported ${result.imported} record(s)${result.torn ? `; torn last line ${result.torn.at} ignored (${result.torn.problem})` : ''}`,
    );
    return EXIT.done;
  },
};
