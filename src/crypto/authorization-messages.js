import { IV_BYTES, TAG_BYTES, openFromBuffer, sealToBuffer } from './aead.js';
/** HKDF's info label of the key that seals authorization failure messages (and nothing else). */
const AUTHORIZATION_MESSAGE_KEY_INFO = 'coffer:authorization-message:v1';
const FORMAT = Buffer.from('CAM1', 'ascii');
const HEADER_BYTES = FORMAT.length + 8;
/**
 * The encoded authorization failure messages of AccessDenied answers (STS DecodeAuthorizationMessage): the
 * details as JSON text, sealed with AES-256-GCM under a key derived from the keyring, so only a server with this
 * root key reads them and any change to a blob is detected. The blob is `CAM1 | expiry (ms, 8 bytes) | iv | tag |
 * ciphertext`, base64url; the header is the AAD, so the expiry cannot be moved either.
 * https://docs.aws.amazon.com/STS/latest/APIReference/API_DecodeAuthorizationMessage.html
 */
export class AuthorizationMessageSealer {
    #key;
    constructor(keyring) {
        this.#key = keyring.deriveKey(AUTHORIZATION_MESSAGE_KEY_INFO);
    }
    seal(message, expiresAt) {
        const header = Buffer.alloc(HEADER_BYTES);
        FORMAT.copy(header);
        header.writeBigUInt64BE(BigInt(Math.max(0, expiresAt.getTime())), FORMAT.length);
        return Buffer.concat([header, sealToBuffer(this.#key, Buffer.from(message, 'utf8'), header)]).toString('base64url');
    }
    /** The message, or undefined when the blob is not one of this server's, was changed, or has expired. */
    open(blob, now) {
        if (!/^[A-Za-z0-9_-]+$/.test(blob))
            return undefined;
        const bytes = Buffer.from(blob, 'base64url');
        if (bytes.length < HEADER_BYTES + IV_BYTES + TAG_BYTES || !bytes.subarray(0, FORMAT.length).equals(FORMAT))
            return undefined;
        const header = bytes.subarray(0, HEADER_BYTES);
        const opened = openFromBuffer(this.#key, bytes.subarray(HEADER_BYTES), header);
        if (!opened)
            return undefined;
        if (Number(header.readBigUInt64BE(FORMAT.length)) <= now.getTime())
            return undefined;
        return opened.toString('utf8');
    }
    close() {
        this.#key.fill(0);
    }
}
