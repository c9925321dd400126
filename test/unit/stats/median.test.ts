import { describe, expect, it } from 'vitest';
import { median } from '../../../core/stats/median.js';

describe('median', () => {
  it('the middle value, the mean of the middle two, nothing for nothing; the input is not reordered', () => {
    const values = [9.5, 4.4, 10.4];
    expect(median(values)).toBe(9.5);
    expect(values).toEqual([9.5, 4.4, 10.4]);
    expect(median([140.3, 137.8])).toBe(139.05);
    expect(median([])).toBeUndefined();
  });
});
