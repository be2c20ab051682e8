/**
 * The lane-lease journal port (L3, L4, L9). Defined with the lanes service.
 */
export interface LaneStore {
  readonly kind: 'lanes';
}
