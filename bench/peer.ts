/**
 * The benchmarks' central system, in its own process as a real HIS would be:
 * one Medplum FHIR server (FhirRouter over its memory repository) per ward,
 * loaded from the synthetic hospital. The agent's own memory and CPU are then
 * measured without the peer's.
 *
 * Started by startPeer() below; speaks over Node IPC:
 *   → { wards, seed, now }          ← { ready: [{ id, name, url }], resources }
 *   → { change: fraction }          ← { changed }   (a new dose on one order of that share of each ward's patients; other patients each time)
 *   → { usage: true }               ← { cpuMs, rssMb }
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startedDirectly } from './config-dir.js';
import { wardToFhir } from '../agent/demo/fhir-emit.js';
import { startFhirServer, type FhirTestServer } from '../agent/demo/fhir-server.js';
import { generateHospital, type SyntheticWard } from '../agent/demo/generator.js';

export interface PeerWard {
  id: string;
  name: string;
  url: string;
}

/**
 * Load as if an hour ago: a real ward's orders were mostly written hours
 * before a pull, not seconds. Only the server's "last updated" stamps move;
 * the synthetic data's own times (doses given, admissions) stay relative to now.
 */
async function asIfAnHourAgo<T>(fn: () => Promise<T>): Promise<T> {
  const RealDate = Date;
  const shift = 3_600_000;
  class Earlier extends RealDate {
    constructor(...args: unknown[]) {
      if (args.length === 0) super(RealDate.now() - shift);
      else super(...(args as [string]));
    }
    static override now() {
      return RealDate.now() - shift;
    }
  }
  globalThis.Date = Earlier as DateConstructor;
  try {
    return await fn();
  } finally {
    globalThis.Date = RealDate;
  }
}

type Request = { wards: number; seed: number; now: string } | { change: number } | { usage: true };

async function servePeer(): Promise<void> {
  let servers: FhirTestServer[] = [];
  let wards: SyntheticWard[] = [];
  // Each change touches other patients, with other values, so no change repeats an earlier one.
  let round = 0;
  process.on('message', (raw) => {
    const msg = raw as Request;
    void (async () => {
      if ('wards' in msg) {
        const h = generateHospital({ seed: msg.seed, wards: msg.wards, patientsPerWard: 40, ordersMin: 10, ordersMax: 20, now: new Date(msg.now) });
        wards = h.wards;
        let resources = 0;
        for (const w of wards) {
          const s = await startFhirServer({ maxCount: 1000 });
          const r = wardToFhir(w);
          resources += r.length;
          await asIfAnHourAgo(() => s.load(r));
          servers.push(s);
        }
        // A hospital's server has long been running: answer a few searches first so its code is compiled, as it would be.
        for (let round = 0; round < 3; round++) {
          for (const type of ['Location', 'Encounter', 'Patient', 'MedicationRequest', 'MedicationAdministration', 'AllergyIntolerance', 'Condition', 'Flag', 'Observation']) {
            await (await fetch(`${servers[0]!.url}/${type}?_count=50`)).arrayBuffer();
          }
        }
        process.send!({ ready: wards.map((w, i) => ({ id: w.id, name: w.name, url: servers[i]!.url })), resources });
      } else if ('change' in msg) {
        let changed = 0;
        round++;
        for (const [i, w] of wards.entries()) {
          const n = Math.max(1, Math.round(w.patients.length * msg.change));
          const from = ((round - 1) * n) % w.patients.length;
          for (const p of w.patients.slice(from, from + n)) {
            const order = p.orders.items[0];
            if (!order) continue;
            const mr = (await servers[i]!.repo.readResource('MedicationRequest', order.id)) as unknown as { dosageInstruction?: Record<string, unknown>[] };
            await servers[i]!.repo.updateResource({ ...mr, dosageInstruction: [{ ...(mr.dosageInstruction?.[0] ?? {}), text: `changed by the bench (round ${round})`, doseAndRate: [{ doseQuantity: { value: 1 + round, unit: 'viên' } }] }] } as never);
            changed++;
          }
        }
        process.send!({ changed });
      } else if ('usage' in msg) {
        const u = process.cpuUsage();
        process.send!({ cpuMs: Math.round((u.user + u.system) / 1000), rssMb: Math.round(process.memoryUsage().rss / 1e6) });
      }
    })().catch((err: unknown) => {
      console.error(err);
      process.exit(1);
    });
  });
  process.on('disconnect', () => {
    void Promise.all(servers.map((s) => s.close())).finally(() => process.exit(0));
    servers = [];
  });
}

export interface Peer {
  wards: PeerWard[];
  resources: number;
  change(fraction: number): Promise<number>;
  usage(): Promise<{ cpuMs: number; rssMb: number }>;
  close(): Promise<void>;
}

/** Start the peer process with a hospital of `wards` × 40 patients. */
export async function startPeer(wards: number, opts: { seed?: number; now?: Date } = {}): Promise<Peer> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['--peer'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] });
  const ask = <T>(msg: Request, key: string) =>
    new Promise<T>((resolve, reject) => {
      const onMsg = (m: Record<string, unknown>) => {
        if (!(key in m)) return;
        child.off('message', onMsg);
        child.off('exit', onExit);
        resolve(m as T);
      };
      const onExit = (code: number | null) => reject(new Error(`FHIR peer exited (${code})`));
      child.on('message', onMsg);
      child.once('exit', onExit);
      child.send(msg);
    });
  const r = await ask<{ ready: PeerWard[]; resources: number }>({ wards, seed: opts.seed ?? 42, now: (opts.now ?? new Date()).toISOString() }, 'ready');
  return {
    wards: r.ready,
    resources: r.resources,
    change: async (fraction) => (await ask<{ changed: number }>({ change: fraction }, 'changed')).changed,
    usage: () => ask<{ cpuMs: number; rssMb: number }>({ usage: true }, 'cpuMs'),
    close: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.disconnect();
      }),
  };
}

if (process.argv[2] === '--peer' && startedDirectly(import.meta.url)) void servePeer();
