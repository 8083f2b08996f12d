import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
const ADDON_FILE = join('native', 'kms-digest', 'build', 'Release', 'kms_digest.node');
/**
 * Loads the addon from `path`, or else from the package this module belongs to: the first folder, going up from
 * this file (src/crypto or dist/crypto when compiled, dist/bundle when bundled), that holds
 * native/kms-digest/build/Release/kms_digest.node (`npm ci` builds it there). Never throws.
 */
export function loadDigestSigner(path) {
    const file = path ?? locateAddon();
    if (!file)
        return { signer: undefined, reason: `${ADDON_FILE} was not found (run npm ci to build it)` };
    let addon;
    try {
        const module = { exports: {} };
        process.dlopen(module, file);
        if (typeof module.exports.sign !== 'function' || typeof module.exports.verify !== 'function') {
            return { signer: undefined, reason: `${file} is not the kms-digest addon` };
        }
        addon = module.exports;
    }
    catch (error) {
        return { signer: undefined, reason: `${file} could not be loaded: ${error.message}` };
    }
    return {
        path: file,
        signer: {
            signDigest: (privateKeyPkcs8Der, digest, params) => addon.sign(privateKeyPkcs8Der, digest, params.scheme, hashName(params)),
            verifyDigest: (publicKeySpkiDer, digest, signature, params) => addon.verify(publicKeySpkiDer, digest, signature, params.scheme, hashName(params)),
        },
    };
}
function hashName(params) {
    return 'hash' in params ? params.hash.toUpperCase() : '';
}
function locateAddon() {
    let folder = dirname(fileURLToPath(import.meta.url));
    for (;;) {
        const candidate = join(folder, ADDON_FILE);
        if (existsSync(candidate))
            return candidate;
        const parent = dirname(folder);
        if (parent === folder)
            return undefined;
        folder = parent;
    }
}
