import { describe, expect, it } from 'vitest';
import { pack, unpack } from '../../agent/sources/fhir/clinical-memory.js';

describe('clinical memory', () => {
  it('keeps each patient in memory about her compressed size, not a whole zlib output chunk', () => {
    const patient = { MedicationRequest: [{ resourceType: 'MedicationRequest', id: 'mr-1', status: 'active', dosageInstruction: [{ text: '1 viên x 2 lần/ngày' }] }] };
    const packed = Array.from({ length: 200 }, () => pack(patient));
    expect(unpack(packed[0]!)).toEqual(patient);
    // What 200 patients hold alive: their own bytes, not 200 zlib output chunks (16 kB on Node 20, 64 kB on Node 24).
    const held = new Set(packed.map((b) => b.buffer));
    const bytes = [...held].reduce((n, ab) => n + ab.byteLength, 0);
    expect(bytes).toBeLessThan(200 * 1024);
  });
});
