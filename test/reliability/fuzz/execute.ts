import { randomBytes } from 'node:crypto';
import type { Agent } from 'node:http';
import { connect } from 'node:net';
import type { AccessKey } from '../../helpers/signed-fetch.js';
import type { BodyMutation, FuzzCase, RawMutation, SignatureMutation } from './cases.js';
import type { WireProtocol } from './catalog.js';
import { noAnswer, rawExchange, send, type Answer } from './transport.js';
import { encodeCall, httpBytes, signRequest, type Signing, type WireRequest } from './wire.js';

export type Target = { port: number; host: string; agent: Agent; credentials: AccessKey; region: string; requestTimeoutMs: number };

/** One request sent and what came back; `mustRefuse` when only an error is right (a bad signature). */
export type Exchange = { answer: Answer; protocol: WireProtocol | 'any'; mustRefuse?: boolean; noAnswerExpected?: boolean };

/** Sends a case; most are one request, a replay is two. */
export async function execute(fuzzCase: FuzzCase, target: Target): Promise<Exchange[]> {
  const request = encodeCall(fuzzCase.operation, fuzzCase.input);
  const protocol = fuzzCase.operation.protocol;
  const signing = { credentials: target.credentials, service: fuzzCase.operation.service, region: target.region };
  if (fuzzCase.kind === 'call') {
    const body = mutateBody(request.body, fuzzCase.mutation, protocol);
    const signed = await signRequest({ ...request, body }, target.host, signing);
    return [{ answer: await send(target.agent, target.port, signed), protocol }];
  }
  if (fuzzCase.kind === 'signature') return badSignature(request, fuzzCase.mutation, target, signing, protocol);
  const signed = await signRequest(request, target.host, signing);
  return [await rawRequest(signed, fuzzCase.mutation, target)];
}

function mutateBody(body: Buffer, mutation: BodyMutation, protocol: WireProtocol): Buffer {
  const json = protocol !== 'query';
  switch (mutation.kind) {
    case 'none':
      return body;
    case 'invalid-utf8': {
      const mutated = Buffer.from(body);
      if (mutated.length === 0) return Buffer.from(mutation.bytes);
      mutation.at.forEach((at, index) => (mutated[Math.floor(at * mutated.length)] = mutation.bytes[index % mutation.bytes.length]!));
      return mutated;
    }
    case 'truncate':
      return body.subarray(0, Math.floor(mutation.at * body.length));
    case 'append':
      return Buffer.concat([body, Buffer.from(mutation.text)]);
    case 'replace':
      return Buffer.from(mutation.bytes);
    case 'empty':
      return Buffer.alloc(0);
    case 'duplicate-member': {
      const text = body.toString('latin1');
      if (!json) return Buffer.from(`${text}&${text}`, 'latin1');
      return text.startsWith('{') && text.endsWith('}') ? Buffer.from(`${text.slice(0, -1)},${text.slice(1)}`, 'latin1') : body;
    }
    case 'prototype-members': {
      const text = body.toString('latin1');
      if (!json) return Buffer.from(`${text}&__proto__.polluted=1&constructor.prototype.polluted=1&Tags.member.1.__proto__=x`, 'latin1');
      const members = '"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}';
      return text.startsWith('{') ? Buffer.from(`{${members}${text.length > 2 ? ',' : ''}${text.slice(1)}`, 'latin1') : body;
    }
    case 'byte-order-mark':
      return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), body]);
  }
}

/** Signature mutations that a server must refuse: only a verbatim replay may succeed. */
async function badSignature(request: WireRequest, mutation: SignatureMutation, target: Target, signing: Signing, protocol: WireProtocol): Promise<Exchange[]> {
  const signed = await signRequest(request, target.host, signing);
  const refused = async (sent: WireRequest, mustRefuse = true): Promise<Exchange[]> => [{ answer: await send(target.agent, target.port, sent), protocol, mustRefuse }];
  const authorization = signed.headers.authorization!;
  switch (mutation.kind) {
    case 'flip-signature': {
      const start = authorization.indexOf('Signature=') + 'Signature='.length;
      const at = start + Math.floor(mutation.at * (authorization.length - start));
      const flipped = authorization[at] === '0' ? '1' : '0';
      return refused(withHeaders(signed, { authorization: `${authorization.slice(0, at)}${flipped}${authorization.slice(at + 1)}` }));
    }
    case 'other-body':
      return refused({ ...signed, body: Buffer.concat([signed.body, Buffer.from(' ')]) });
    case 'expired':
      return refused(await signRequest(request, target.host, { ...signing, date: new Date(Date.now() - 20 * 60_000) }));
    case 'future':
      return refused(await signRequest(request, target.host, { ...signing, date: new Date(Date.now() + 20 * 60_000) }));
    case 'unknown-key':
      return refused(await signRequest(request, target.host, { ...signing, credentials: { accessKeyId: `AKIA${randomBytes(8).toString('hex').toUpperCase()}`, secretAccessKey: randomBytes(20).toString('base64') } }));
    case 'wrong-secret':
      return refused(await signRequest(request, target.host, { ...signing, credentials: { ...signing.credentials, secretAccessKey: randomBytes(20).toString('base64') } }));
    case 'other-service':
      return refused(await signRequest(request, target.host, { ...signing, service: mutation.service }), mutation.service !== signing.service);
    case 'odd-region':
      return refused(await signRequest(request, target.host, { ...signing, region: mutation.region }), false);
    case 'garbage-authorization':
      return refused(withHeaders(signed, { authorization: mutation.text }));
    case 'truncated-authorization':
      return refused(withHeaders(signed, { authorization: authorization.slice(0, Math.floor(mutation.at * authorization.length)) }));
    case 'no-date': {
      const { 'x-amz-date': _date, ...headers } = signed.headers;
      return refused({ ...signed, headers });
    }
    case 'bad-date':
      return refused(withHeaders(signed, { 'x-amz-date': mutation.text }), mutation.text === signed.headers['x-amz-date']);
    case 'changed-signed-header':
      return refused(withHeaders(signed, { host: target.host.replace('127.0.0.1', 'localhost') }));
    case 'security-token':
      return refused(withHeaders(signed, { 'x-amz-security-token': mutation.text }), false);
    case 'replay':
      return [...(await refused(signed, false)), ...(await refused(signed, false))];
    case 'replay-other-body':
      return [...(await refused(signed, false)), ...(await refused({ ...signed, body: Buffer.concat([Buffer.from(' '), signed.body]) }))];
  }
}

function withHeaders(request: WireRequest, headers: Record<string, string>): WireRequest {
  return { ...request, headers: { ...request.headers, ...headers } };
}

/** A raw request over its own connection: the bytes of a signed request, then broken. */
async function rawRequest(signed: WireRequest, mutation: RawMutation, target: Target): Promise<Exchange> {
  const giveUpMs = target.requestTimeoutMs + 5_000;
  const exchange = async (bytes: Buffer): Promise<Exchange> => ({ answer: (await rawExchange(target.port, [bytes], { giveUpMs })).answer, protocol: 'any' });
  const withHead = (extraHead: string) => exchange(httpBytes(signed, { extraHead }));
  switch (mutation.kind) {
    case 'header-injection':
      return withHead(`x-note: a${mutation.separator}${mutation.line}\r\n`);
    case 'control-in-header':
      return withHead(`x-note: a${mutation.char}b\r\n`);
    case 'duplicate-header': {
      const existing = mutation.name === 'content-length' ? String(signed.body.length) : (signed.headers[mutation.name] ?? 'chunked');
      const value = mutation.differ ? (mutation.name === 'content-length' ? String(signed.body.length + 1) : `${existing}x`) : existing;
      return withHead(`${mutation.name}: ${value}\r\n`);
    }
    case 'huge-header':
      return withHead(`x-big: ${'b'.repeat(mutation.bytes)}\r\n`);
    case 'many-headers':
      return withHead(Array.from({ length: mutation.count }, (_, index) => `x-h${index}: ${index}\r\n`).join(''));
    case 'high-bytes-in-header':
      return withHead(`x-note: ${String.fromCharCode(...mutation.bytes)}\r\n`);
    case 'bad-request-line': {
      const bytes = httpBytes(signed).toString('latin1');
      return exchange(Buffer.from(`${mutation.line}${bytes.slice(bytes.indexOf('\r\n'))}`, 'latin1'));
    }
    case 'bad-content-length': {
      const bytes = httpBytes(signed).toString('latin1');
      return exchange(Buffer.from(bytes.replace(/\r\ncontent-length: \d+\r\n/, `\r\ncontent-length: ${mutation.value}\r\n`), 'latin1'));
    }
    case 'chunked': {
      const head = httpBytes({ ...signed, body: Buffer.alloc(0) }).toString('latin1').replace(/\r\ncontent-length: \d+\r\n/, '\r\ntransfer-encoding: chunked\r\n');
      const size = mutation.valid ? signed.body.length.toString(16) : mutation.sizeLine;
      return exchange(Buffer.concat([Buffer.from(head, 'latin1'), Buffer.from(`${size}\r\n`), signed.body, Buffer.from('\r\n0\r\n\r\n')]));
    }
    case 'flip-bytes': {
      const bytes = httpBytes(signed);
      mutation.at.forEach((at, index) => (bytes[Math.floor(at * bytes.length)] = mutation.bytes[index % mutation.bytes.length]!));
      return exchange(bytes);
    }
    case 'pipelined':
      return exchange(Buffer.concat([httpBytes(signed, { connection: 'keep-alive' }), Buffer.from(mutation.second)]));
    case 'http10': {
      const bytes = httpBytes(signed).toString('latin1');
      return exchange(Buffer.from(bytes.replace(' HTTP/1.1\r\n', ' HTTP/1.0\r\n'), 'latin1'));
    }
    case 'early-close':
      await writeAndClose(target.port, httpBytes(signed).subarray(0, Math.floor(mutation.at * (signed.body.length + 200))));
      return { answer: noAnswer('closed by the client'), protocol: 'any', noAnswerExpected: true };
  }
}

/** A client that goes away mid-request: writes part of a request and resets the connection. */
function writeAndClose(port: number, bytes: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(bytes, () => {
        socket.resetAndDestroy();
        resolve();
      });
    });
    socket.on('error', () => resolve());
  });
}
