import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpTransport } from '../../lib/index.js';

/** A stand-in for API Gateway's front door that records what it was sent. */
async function recordingServer() {
  const seen: { method?: string; url?: string; headers: IncomingHttpHeaders }[] = [];
  const server = createServer((req, res) => {
    seen.push({ method: req.method, url: req.url, headers: req.headers });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ lockId: 'x', held: false }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/prod`, seen, close: () => server.close() };
}

it('signs requests with SigV4 for execute-api when asked, covering the encoded path', async () => {
  const server = await recordingServer();
  const transport = new HttpTransport({
    endpoint: server.url,
    sign: true,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret', sessionToken: 'session' },
  });
  await transport.get('orders/42 ü');
  server.close();
  const [request] = server.seen;
  expect(request.method).toBe('GET');
  expect(request.url).toBe('/prod/locks/orders%2F42%20%C3%BC');
  expect(request.headers.authorization).toMatch(
    /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=[a-z0-9;-]*host[a-z0-9;-]*, Signature=[0-9a-f]{64}$/,
  );
  expect(request.headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
  expect(request.headers['x-amz-security-token']).toBe('session');
});

it('does not sign requests to a local endpoint by default', async () => {
  const server = await recordingServer();
  await new HttpTransport({ endpoint: server.url }).get('plain');
  server.close();
  expect(server.seen[0].headers.authorization).toBeUndefined();
});

it('refuses to guess a signing region it cannot tell', () => {
  const saved = process.env.AWS_REGION;
  delete process.env.AWS_REGION;
  expect(() => new HttpTransport({ endpoint: 'http://127.0.0.1:1', sign: true })).toThrow(/region/);
  if (saved !== undefined) process.env.AWS_REGION = saved;
});

it('signs a listing over its query, so the signature API Gateway recomputes from what arrives matches', async () => {
  const { SignatureV4 } = await import('@smithy/signature-v4');
  const { Sha256 } = await import('@aws-crypto/sha256-js');
  const { HttpRequest } = await import('@smithy/protocol-http');
  const server = await recordingServer();
  const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' };
  const transport = new HttpTransport({
    endpoint: server.url,
    sign: true,
    region: 'eu-west-1',
    credentials,
  });
  const prefix = "orders/a b*(ü)'!";
  await transport.list({ prefix, limit: 5, cursor: 'abc-_' }).catch(() => undefined);
  server.close();
  const [request] = server.seen;
  const url = new URL(request.url!, 'http://127.0.0.1');
  expect(url.pathname).toBe('/prod/locks');
  expect(url.searchParams.get('prefix')).toBe(prefix);
  expect(url.searchParams.get('limit')).toBe('5');
  // Re-sign what arrived, as the receiving side does, and compare.
  const authorization = String(request.headers.authorization);
  const signed = /SignedHeaders=([^,]+)/.exec(authorization)![1]!.split(';');
  const headers = Object.fromEntries(signed.map((name) => [name, String(request.headers[name])]));
  const date = String(request.headers['x-amz-date']);
  const signingDate = new Date(
    `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}T${date.slice(9, 11)}:${date.slice(11, 13)}:${date.slice(13, 15)}Z`,
  );
  const again = await new SignatureV4({
    service: 'execute-api',
    region: 'eu-west-1',
    credentials,
    sha256: Sha256,
  }).sign(
    new HttpRequest({
      method: 'GET',
      protocol: 'http:',
      hostname: '127.0.0.1',
      port: Number(url.port || headers.host?.split(':')[1]),
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers,
    }),
    { signingDate },
  );
  const signature = (text: string) => /Signature=([0-9a-f]{64})/.exec(text)?.[1];
  expect(signature(String(again.headers.authorization))).toBe(signature(authorization));
});
