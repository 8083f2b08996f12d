import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The web console's files (the Vite build of src/console/, in dist/console/) served at `/console/`. The page
 * holds no secret of the server's: it is a client that signs its own API calls in the browser, so these are
 * plain static files with strict headers.
 *
 * Only files found in the build directory are served, looked up by exact path in a table made from its listing:
 * a request path is never joined onto the file system, so `..`, encoded or not, finds nothing (404).
 */

export const CONSOLE_PATH = '/console';

/**
 * CSP: everything from this origin only, no inline script or style, never framed. `img-src data:` is for the
 * CSS framework's icons (checkbox ticks, select chevrons), which are data: SVG images in the stylesheet.
 */
export const CONSOLE_CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': CONSOLE_CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.map': 'application/json',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** Vite names what it emits under assets/ by content hash: such a URL never changes its bytes. */
const IMMUTABLE = 'public, max-age=31536000, immutable';
const REVALIDATE = 'no-cache';

export type ConsoleResponse = { status: number; headers: Record<string, string>; body: Buffer };

export type ConsoleAssets = {
  /** The answer to `method path` for a path under /console (see isConsolePath). */
  answer(method: string, path: string): ConsoleResponse;
};

export function isConsolePath(path: string): boolean {
  return path === CONSOLE_PATH || path.startsWith(`${CONSOLE_PATH}/`);
}

type Asset = { body: Buffer; contentType: string; cacheControl: string };

/**
 * The console served from `directory` (default: the build output found beside the running code). The files are
 * read once, at the first request, and kept in memory (a few hundred KB).
 */
export function createConsoleAssets(directory: string | undefined = findConsoleBuild()): ConsoleAssets {
  let assets: Map<string, Asset> | undefined;

  function answer(method: string, path: string): ConsoleResponse {
    if (method !== 'GET' && method !== 'HEAD') {
      return plain(405, 'Method not allowed.', { allow: 'GET, HEAD' });
    }
    if (path === CONSOLE_PATH) return plain(308, 'Moved to /console/.', { location: `${CONSOLE_PATH}/` });
    assets ??= loadAssets(directory);
    if (assets.size === 0) return plain(404, 'The console is not built: run `npm run build`.');
    const asset = assets.get(path === `${CONSOLE_PATH}/` ? `${CONSOLE_PATH}/index.html` : path);
    if (!asset) return plain(404, 'Not found.');
    return { status: 200, headers: { ...SECURITY_HEADERS, 'content-type': asset.contentType, 'cache-control': asset.cacheControl }, body: asset.body };
  }

  return { answer };
}

function plain(status: number, message: string, extra: Record<string, string> = {}): ConsoleResponse {
  return { status, headers: { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8', 'cache-control': REVALIDATE, ...extra }, body: Buffer.from(message) };
}

/** URL path → file, for every regular file under `directory` whose type the table above knows. */
function loadAssets(directory: string | undefined): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  if (!directory || !existsSync(join(directory, 'index.html'))) return assets;
  for (const file of listFiles(directory)) {
    const contentType = CONTENT_TYPES[extname(file)];
    if (!contentType) continue;
    const urlPath = `${CONSOLE_PATH}/${relative(directory, file).split(sep).join('/')}`;
    const hashed = urlPath.startsWith(`${CONSOLE_PATH}/assets/`);
    assets.set(urlPath, { body: readFileSync(file), contentType, cacheControl: hashed ? IMMUTABLE : REVALIDATE });
  }
  return assets;
}

function listFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return listFiles(path);
    return entry.isFile() ? [path] : [];
  });
}

/**
 * dist/console/ of the checkout the running code belongs to: the code runs from dist/server/, dist/bundle/ or
 * (tests) build-test/src/server/, so the nearest ancestor holding dist/console/index.html is the one.
 */
function findConsoleBuild(): string | undefined {
  let directory = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(directory, 'dist', 'console');
    if (existsSync(join(candidate, 'index.html'))) return candidate;
    const parent = dirname(directory);
    if (parent === directory) return undefined;
    directory = parent;
  }
}
