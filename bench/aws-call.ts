/**
 * Single signed AWS JSON 1.1 calls for setting up and checking workloads (not for load: that is load.ts).
 */
import { Agent, request } from 'node:http';
import type { SignedCall, Signer } from './signer.js';

export type Service = 'secretsmanager' | 'kms';

export const TARGET_PREFIX: Record<Service, string> = { secretsmanager: 'secretsmanager', kms: 'TrentService' };

/** One operation call as the load generator sends it: which service, which operation, which JSON body. */
export type Call = { service: Service; operation: string; payload: unknown };

export type CallResult = { status: number; text: string; json: any };

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

/** Signs `call` for `host` and POSTs it to `url`; resolves with the status and the parsed body. */
export function send(url: string, host: string, signer: Signer, call: Call): Promise<CallResult> {
  return sendSigned(url, signer.sign(host, call.service, `${TARGET_PREFIX[call.service]}.${call.operation}`, JSON.stringify(call.payload)));
}

/** POSTs an already signed request to `url`. */
export function sendSigned(url: string, { headers, body }: SignedCall): Promise<CallResult> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: target.hostname, port: target.port, path: '/', method: 'POST', agent, headers: { ...headers, 'content-length': String(body.length) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, text, json });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** `send`, throwing unless the answer is 200. */
export async function sendOk(url: string, host: string, signer: Signer, call: Call): Promise<any> {
  const result = await send(url, host, signer, call);
  if (result.status !== 200) throw new Error(`${call.operation} answered ${result.status}: ${result.text.slice(0, 300)}`);
  return result.json;
}

/** Runs `task(i)` for i in [0, count) with at most `concurrency` in flight. */
export async function forEachConcurrently(count: number, concurrency: number, task: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}
