/** A key names the unit of ownership, usually a repository: `repo:acme/web`. */
export type Key = string;
export type RunId = string;
/** Fencing token: bumped every time a key changes hands. */
export type Epoch = number;
/** Milliseconds since the Unix epoch, always read from an injected Clock. */
export type Millis = number;
