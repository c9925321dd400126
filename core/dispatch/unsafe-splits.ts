/** Groups `--split-groups` must keep whole. */
export interface UnsafeSplit {
  section: string;
  why: string;
}

export const UNSAFE_TO_SPLIT: readonly UnsafeSplit[] = [];
