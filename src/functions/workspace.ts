import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NODE_BOOTSTRAP } from './bootstrap-node.js';
import { PYTHON_BOOTSTRAP } from './bootstrap-python.js';
import { extractZip } from './zip.js';

/**
 * The files hosted functions run from, under one private directory made on first use and removed by close():
 * `bootstrap/` (the runtime scripts), `code/<sha256>/` (each package unpacked once and shared by every
 * invocation of that code) and `invocations/<id>/` (an invocation's HOME and TMPDIR, removed after it).
 */
export class Workspace {
  readonly #parent: string;
  #root: string | undefined;
  readonly #unpacking = new Map<string, Promise<string>>();

  constructor(parent: string = tmpdir()) {
    this.#parent = parent;
  }

  get pythonBootstrap(): string {
    return join(this.#ensure(), 'bootstrap', 'bootstrap.py');
  }

  get nodeBootstrap(): string {
    return join(this.#ensure(), 'bootstrap', 'bootstrap.mjs');
  }

  /**
   * The directory holding this package unpacked. The key is the SHA-256 of the bytes themselves, not the
   * stored CodeSha256, so a changed row can never run other code from the cache. Concurrent first uses of
   * one package share one extraction, which goes to a scratch directory and is renamed into place.
   */
  codeDirectory(zip: Buffer): Promise<string> {
    const key = createHash('sha256').update(zip).digest('hex');
    const dir = join(this.#ensure(), 'code', key);
    if (existsSync(dir)) return Promise.resolve(dir);
    let pending = this.#unpacking.get(key);
    if (!pending) {
      pending = this.#unpack(zip, dir).finally(() => this.#unpacking.delete(key));
      this.#unpacking.set(key, pending);
    }
    return pending;
  }

  /** A fresh private directory for one invocation. */
  invocationDirectory(): Promise<string> {
    return mkdtemp(join(this.#ensure(), 'invocations', 'run-'));
  }

  async removeInvocationDirectory(dir: string): Promise<void> {
    await rm(dir, { recursive: true, force: true, maxRetries: 3 });
  }

  close(): void {
    if (this.#root) rmSync(this.#root, { recursive: true, force: true, maxRetries: 3 });
    this.#root = undefined;
  }

  async #unpack(zip: Buffer, dir: string): Promise<string> {
    const scratch = join(this.#ensure(), 'code', `.unpacking-${randomUUID()}`);
    try {
      await extractZip(zip, scratch);
      await rename(scratch, dir);
    } catch (error) {
      await rm(scratch, { recursive: true, force: true });
      if (!existsSync(dir)) throw error;
    }
    return dir;
  }

  #ensure(): string {
    if (this.#root) return this.#root;
    const root = mkdtempSync(join(this.#parent, 'coffer-functions-'));
    for (const sub of ['bootstrap', 'code', 'invocations']) mkdirSync(join(root, sub), { mode: 0o700 });
    writeFileSync(join(root, 'bootstrap', 'bootstrap.py'), PYTHON_BOOTSTRAP, { mode: 0o600 });
    writeFileSync(join(root, 'bootstrap', 'bootstrap.mjs'), NODE_BOOTSTRAP, { mode: 0o600 });
    this.#root = root;
    return root;
  }
}
