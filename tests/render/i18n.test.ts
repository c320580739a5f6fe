import { describe, expect, it } from 'vitest';
import { formatDate, formatDateTime } from '../../agent/render/i18n.js';

describe('dates as ward staff read them', () => {
  it('formats an instant in each time zone asked for, also when asked again', () => {
    for (let i = 0; i < 2; i++) {
      expect(formatDateTime('2026-11-22T03:00:00Z', 'Asia/Ho_Chi_Minh')).toBe('22/11/2026 10:00 (GMT+7)');
      expect(formatDateTime('2026-11-22T03:00:00Z', 'Europe/Paris')).toBe('22/11/2026 04:00 (GMT+1)');
      expect(formatDateTime('2026-11-22T03:00:00Z', 'UTC')).toBe('22/11/2026 03:00 (GMT+0)');
      expect(formatDateTime('not a date', 'UTC')).toBeNull();
      expect(formatDate('2026-11-21T20:00:00Z', 'Asia/Ho_Chi_Minh')).toBe('22/11/2026');
    }
  });
});
