import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import type { AccessKey } from './signed-fetch.js';

export const ROTATION_STEPS = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const;
export type RotationStep = (typeof ROTATION_STEPS)[number];

/** One POST of a step to the function, as the function saw it. */
export type Invocation = {
  secretId: string;
  token: string;
  step: RotationStep;
  /** The process id of the Coffer node that sent it (the owner of the connection's other end), if found. */
  nodePid: number | undefined;
  startedAt: number;
  /** When the function answered; undefined while it runs (or when its caller died before it answered). */
  endedAt?: number;
  ok?: boolean;
  error?: string;
};

/** Sends each call through the client the routing picks for it. */
type Caller = { send: SecretsManagerClient['send'] };

export type HeldStep = {
  /** The first invocation of the step after hold() was called, once it has arrived (it waits for release()). */
  arrived: Promise<Invocation>;
  release(): void;
};

export type HttpRotationFunction = {
  /** What CreateFunction gets as COFFER_FUNCTION_URL. */
  url: string;
  invocations: Invocation[];
  /** The value the function's createSecret writes for a token, so a test can check it reads back. */
  valueFor(token: string): string;
  /**
   * Makes the next invocation of `step` wait until released: before it does its work, or (`when: 'after'`)
   * once its work is done, before it answers.
   */
  hold(step: RotationStep, when?: 'before' | 'after'): HeldStep;
  close(): Promise<void>;
};

/**
 * A custom rotation function served over HTTP (Coffer's `coffer-http` runtime), written the way AWS's
 * rotation template (SecretsManagerRotationTemplate) is: each step first checks with DescribeSecret that the
 * token is the secret's AWSPENDING version (or already AWSCURRENT: nothing to do); createSecret writes a value
 * under AWSPENDING unless one is there; setSecret has no database to change; testSecret reads the pending value
 * back; finishSecret moves AWSCURRENT to the token. Its Secrets Manager calls carry the administrator's key (an
 * HTTP function brings its own credentials).
 *
 * Every invocation is recorded with the node that sent it, found from the connection: the test runs on the
 * same machine, so /proc tells which of the nodes' processes owns the other end. Its calls go back to the node
 * that invoked it (`route: 'invoker'`, the default) or to any live node at random (`'any'`, as through a load
 * balancer). A node's read cache shows another node's change up to 500 ms late: through a load balancer, the
 * template's first check can see a secret without RotationEnabled right after RotateSecret on another node,
 * fail the step, and be retried by Secrets Manager 30 s later (RotateSecret's value-less placeholder, though,
 * is never cached, so a step does read back what the previous one wrote through another node).
 *
 * finishSecret retries its move when a concurrent writer changed AWSCURRENT between its DescribeSecret and its
 * UpdateSecretVersionStage (RemoveFromVersionId no longer names the holder); a Lambda would fail instead and
 * be retried by Secrets Manager, 30 s later.
 */
export async function startHttpRotationFunction(options: {
  /** The live nodes, by process id: where each invocation comes from and where its calls go. */
  nodes: () => Map<number, string>;
  credentials: AccessKey;
  /** Where the function's calls go (default 'invoker'). */
  route?: 'any' | 'invoker';
}): Promise<HttpRotationFunction> {
  const invocations: Invocation[] = [];
  type Hold = { arrive(invocation: Invocation): void; released: Promise<void> };
  const holds = new Map<`${'before' | 'after'} ${RotationStep}`, Hold>();
  /** Waits at a hold set for this step and moment, if there is one (each hold catches one invocation). */
  const waitAtHold = async (invocation: Invocation, when: 'before' | 'after') => {
    const hold = holds.get(`${when} ${invocation.step}`);
    if (!hold) return;
    holds.delete(`${when} ${invocation.step}`);
    hold.arrive(invocation);
    await hold.released;
  };
  const releases: Array<() => void> = [];
  const clients = new Map<string, SecretsManagerClient>();
  /** A client for the next call: any live node, or the one that sent the invocation (when known and routed so). */
  const clientFor = (nodePid: number | undefined) => {
    const nodes = options.nodes();
    const any = [...nodes.values()];
    const invoker = (options.route ?? 'invoker') === 'invoker' && nodePid !== undefined ? nodes.get(nodePid) : undefined;
    const endpoint = invoker ?? any[Math.floor(Math.random() * any.length)]!;
    let found = clients.get(endpoint);
    if (!found) {
      found = new SecretsManagerClient({ endpoint, region: 'us-east-1', credentials: options.credentials, maxAttempts: 1 });
      clients.set(endpoint, found);
    }
    return found;
  };
  const valueFor = rotatedValue;

  const steps: Record<RotationStep, (client: Caller, secretId: string, token: string) => Promise<void>> = {
    async createSecret(client, secretId, token) {
      await client.send(new GetSecretValueCommand({ SecretId: secretId, VersionStage: 'AWSCURRENT' }));
      try {
        await client.send(new GetSecretValueCommand({ SecretId: secretId, VersionId: token, VersionStage: 'AWSPENDING' }));
        return;
      } catch (error) {
        if ((error as Error).name !== 'ResourceNotFoundException') throw error;
      }
      await client.send(new PutSecretValueCommand({ SecretId: secretId, ClientRequestToken: token, SecretString: valueFor(token), VersionStages: ['AWSPENDING'] }));
    },
    async setSecret() {
      // No database behind this secret: nothing to set.
    },
    async testSecret(client, secretId, token) {
      const pending = await client.send(new GetSecretValueCommand({ SecretId: secretId, VersionId: token, VersionStage: 'AWSPENDING' }));
      if (pending.SecretString !== valueFor(token)) throw Object.assign(new Error('the pending value is not the one createSecret wrote'), { name: 'TestFailed' });
    },
    async finishSecret(client, secretId, token) {
      for (let attempt = 1; ; attempt++) {
        const described = await client.send(new DescribeSecretCommand({ SecretId: secretId }));
        const current = Object.entries(described.VersionIdsToStages ?? {}).find(([, stages]) => stages.includes('AWSCURRENT'))?.[0];
        if (current === token) return;
        try {
          await client.send(
            new UpdateSecretVersionStageCommand({ SecretId: secretId, VersionStage: 'AWSCURRENT', MoveToVersionId: token, RemoveFromVersionId: current }),
          );
          return;
        } catch (error) {
          if ((error as Error).name !== 'InvalidParameterException' || attempt >= 20) throw error;
          // Our node may still show the labels from before the other write (its read cache), for up to 500 ms.
          await sleep(50 * attempt);
        }
      }
    },
  };

  /** The template's checks before any step: rotation on, the token a version of the secret, under AWSPENDING. */
  async function runStep(client: Caller, secretId: string, token: string, step: RotationStep): Promise<void> {
    const described = await client.send(new DescribeSecretCommand({ SecretId: secretId }));
    if (!described.RotationEnabled) throw Object.assign(new Error('rotation is not enabled'), { name: 'ValueError' });
    const stages = described.VersionIdsToStages?.[token];
    if (!stages) throw Object.assign(new Error('the token is no version of the secret'), { name: 'ValueError' });
    if (stages.includes('AWSCURRENT')) return;
    if (!stages.includes('AWSPENDING')) throw Object.assign(new Error('the token is not AWSPENDING'), { name: 'ValueError' });
    await steps[step](client, secretId, token);
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const event = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { SecretId: string; ClientRequestToken: string; Step: RotationStep };
    const invocation: Invocation = {
      secretId: event.SecretId,
      token: event.ClientRequestToken,
      step: event.Step,
      nodePid: peerPid(request.socket, [...options.nodes().keys()]),
      startedAt: Date.now(),
    };
    invocations.push(invocation);
    await waitAtHold(invocation, 'before');
    try {
      await runStep({ send: (command) => clientFor(invocation.nodePid).send(command) }, event.SecretId, event.ClientRequestToken, event.Step);
      await waitAtHold(invocation, 'after');
      invocation.ok = true;
      answer(response, 200, null);
    } catch (error) {
      invocation.ok = false;
      invocation.error = `${(error as Error).name}: ${(error as Error).message}`;
      answer(response, 500, { errorType: (error as Error).name, errorMessage: (error as Error).message });
    } finally {
      invocation.endedAt = Date.now();
    }
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error) => answer(response, 500, { errorType: 'Unhandled', errorMessage: String(error) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/rotate`,
    invocations,
    valueFor,
    hold(step, when = 'before') {
      let arrive!: (invocation: Invocation) => void;
      let release!: () => void;
      const arrived = new Promise<Invocation>((resolve) => (arrive = resolve));
      const released = new Promise<void>((resolve) => (release = resolve));
      holds.set(`${when} ${step}`, { arrive, released });
      releases.push(release);
      return { arrived, release };
    },
    async close() {
      // A held invocation still waiting ends now, so the server can close.
      for (const release of releases) release();
      holds.clear();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      for (const each of clients.values()) each.destroy();
    },
  };
}

/** The value the function's createSecret writes under a token. */
export function rotatedValue(token: string): string {
  return `rotated:${token}`;
}

function answer(response: ServerResponse, status: number, body: unknown): void {
  if (response.headersSent || response.destroyed) return;
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

/**
 * Which of `pids` holds the other end of a loopback connection: the socket whose local port is our peer's
 * port (in /proc/net/tcp), then the process with that socket's inode among its file descriptors.
 */
export function peerPid(socket: Socket, pids: number[]): number | undefined {
  const peerPort = socket.remotePort;
  const ourPort = socket.localPort;
  if (peerPort === undefined || ourPort === undefined) return undefined;
  const hex = (port: number) => port.toString(16).toUpperCase().padStart(4, '0');
  let inode: string | undefined;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10) continue;
      if (fields[1]!.endsWith(`:${hex(peerPort)}`) && fields[2]!.endsWith(`:${hex(ourPort)}`)) inode = fields[9];
    }
    if (inode) break;
  }
  if (!inode) return undefined;
  const target = `socket:[${inode}]`;
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) === target) return pid;
      } catch {
        // closed meanwhile
      }
    }
  }
  return undefined;
}
