/**
 * Splits a text stream into lines as its chunks arrive: `onLine` receives each complete line
 * without its newline, and `end()` delivers a last line that had none.
 */
export function lineReader(onLine: (line: string) => void): { push(text: string): void; end(): void } {
  let partial = '';
  return {
    push(text) {
      partial += text;
      let newline: number;
      while ((newline = partial.indexOf('\n')) >= 0) {
        const line = partial.slice(0, newline);
        partial = partial.slice(newline + 1);
        onLine(line);
      }
    },
    end() {
      if (partial !== '') onLine(partial);
      partial = '';
    },
  };
}
