/** A JSON value: what inputs, step results and run results must be, so they can be journaled. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
