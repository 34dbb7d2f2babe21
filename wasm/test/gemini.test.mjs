// GeminiReceiver against the cases and fixtures of the Rust crate's tests
// (gemini/tests/dynamic.rs, keys and JWKS from tests/fixtures/jwt): each
// test here names the Rust test it mirrors, with the same tokens, clock and
// expected error. Tokens are signed here with node:crypto from the committed
// PEM keys, as the Rust tests sign them with jsonwebtoken.
import assert from 'node:assert/strict';
import { createHash, createHmac, createSign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { test } from 'node:test';
import { GeminiReceiver, JwksCache, WebhookVerificationError } from 'webhook-signature-wasm';

const fixture = (name) => readFileSync(new URL(`./jwt/${name}`, import.meta.url), 'utf8');
const KEY_A = fixture('demo-2048-a.pem');
const KEY_B = fixture('demo-2048-b.pem');
const JWKS_A = JSON.parse(fixture('jwks-a.json'));
const JWKS_AB = JSON.parse(fixture('jwks-ab.json'));
const JWKS_MIXED = JSON.parse(fixture('jwks-mixed.json'));
// gemini/tests/common/mod.rs
const AUDIENCE = 'https://receiver.example/webhooks/gemini';
const NOW = 1_790_000_000;
const ID = 'msg_2Lr4Kk0dynamic';
const BODY = '{"type":"video.generated","version":"v1","data":{"id":"op1","output_file_uri":"https://x/y","file_name":"files/y"}}';
const claims = () => ({ aud: AUDIENCE, iat: NOW, exp: NOW + 300, iss: 'https://generativelanguage.googleapis.com' });
const with_ = (value, key, member) => ({ ...value, [key]: member });
const without = (value, key) => {
  const { [key]: _, ...rest } = value;
  return rest;
};
const encode = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
function tokenWith(header, body, pem) {
  const input = `${encode(header)}.${encode(body)}`;
  return `${input}.${createSign('RSA-SHA256').update(input).sign(pem).toString('base64url')}`;
}
const token = (body) => tokenWith({ alg: 'RS256', typ: 'JWT', kid: 'demo-a' }, body, KEY_A);
const headers = (signature, timestamp = '1790000000', id = ID) => ({ 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': signature });
const receiver = (options = {}) => new GeminiReceiver({ audience: AUDIENCE, jwks: JWKS_AB, ...options });

async function code(promise) {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof WebhookVerificationError, `not a WebhookVerificationError: ${error}`);
    return error.part ? `${error.code}(${error.part})` : error.claim ? `${error.code}(${error.claim})` : error.code;
  }
  return 'ok';
}
const check = (tok, options, body = BODY) => code(receiver(options).verify(body, headers(tok), { now: NOW }));

test('valid_token_authenticates_the_sender_only', async () => {
  const verified = await receiver({ jwks: JWKS_A }).verify(BODY, headers(token(claims())), { now: NOW });
  assert.equal(verified.mode, 'dynamic');
  assert.equal(verified.kid, 'demo-a');
  assert.equal(verified.authenticated, 'bearer-token');
  assert.equal(verified.claims.aud, AUDIENCE);
  assert.equal(verified.id, ID);
  assert.equal(verified.timestamp, NOW);
  assert.equal(verified.event.type, 'video.generated');
});

test('token_binding_the_body_by_digest', async () => {
  const digest = createHash('sha256').update(BODY).digest('hex');
  const bound = await receiver().verify(BODY, headers(token(with_(claims(), 'body_sha256', digest))), { now: NOW });
  assert.equal(bound.authenticated, 'signature');
  assert.equal(bound.boundBy, 'body_sha256');
  assert.equal(await check(token(with_(claims(), 'body_sha256', digest)), {}, '{}'), 'BodyMismatch');
  const jti = await receiver().verify('{}', headers(token(with_(claims(), 'jti', digest))), { now: NOW });
  assert.equal(jti.authenticated, 'bearer-token');
  // binding.rs's unit tests: base64url, base64, upper-case hex, nested.
  for (const form of [createHash('sha256').update(BODY).digest('base64url'), createHash('sha256').update(BODY).digest('base64'), digest.toUpperCase()]) {
    assert.equal((await receiver().verify(BODY, headers(token(with_(claims(), 'h', form))), { now: NOW })).authenticated, 'signature', form);
  }
  const nested = await receiver().verify(BODY, headers(token(with_(claims(), 'webhook', { sha256: digest }))), { now: NOW });
  assert.equal(nested.boundBy, 'webhook.sha256');
});

test('a_bound_body_can_be_required', async () => {
  assert.equal(await check(token(claims()), { requireBoundBody: true }), 'BodyNotBound');
  const digest = createHash('sha256').update(BODY).digest('hex');
  assert.equal(await check(token(with_(claims(), 'body_sha256', digest)), { requireBoundBody: true }), 'ok');
});

test('token_embedding_the_event', async () => {
  const bound = await receiver().verify(BODY, headers(token(with_(claims(), 'event', JSON.parse(BODY)))), { now: NOW });
  assert.equal(bound.boundBy, 'event');
  // Not I-JSON (a repeated name): the embedded event binds nothing.
  const twice = '{"type":"video.generated","type":"batch.failed"}';
  const unbound = await receiver().verify(twice, headers(token(with_(claims(), 'event', { type: 'batch.failed' }))), { now: NOW });
  assert.equal(unbound.authenticated, 'bearer-token');
});

test('second_key_after_rotation', async () => {
  const header = { alg: 'RS256', kid: 'demo-b' };
  assert.equal(await check(tokenWith(header, claims(), KEY_B)), 'ok');
  assert.equal(await check(tokenWith(header, claims(), KEY_B), { jwks: JWKS_A }), 'UnknownKeyId');
});

test('length_is_checked_before_parsing', async () => {
  assert.equal(await check(`${'A'.repeat(9000)}.e30.e30`), 'TokenTooLong');
});

test('malformed_tokens', async () => {
  // Not shaped as a token ("e30.e30", "e3%.e30.c2ln", "{signed}.%%%"): the static path, with no secret here.
  assert.equal(await check('e30.e30'), 'NoMatchingSignature');
  assert.equal(await check('e31.e30.c2ln'), 'MalformedToken(Base64)', 'trailing bits');
  assert.equal(await check('bm90IGpzb24.e30.c2ln'), 'MalformedToken(Header)');
  assert.equal(await check(tokenWith({ alg: 'RS256', kid: 7 }, claims(), KEY_A)), 'MalformedToken(Header)');
  // A repeated alg: parsers disagree on which counts, so the crate's serde refuses it.
  const twice = `${Buffer.from('{"alg":"none","alg":"RS256","kid":"demo-a"}').toString('base64url')}.${encode(claims())}`;
  assert.equal(await check(`${twice}.c2ln`), 'MalformedToken(Header)');
});

test('every_other_algorithm_is_rejected_before_rsa', async () => {
  for (const alg of ['none', 'HS256', 'RS384', 'RS512', 'PS256', 'ES256', 'rs256', null]) {
    assert.equal(await check(tokenWith({ alg, kid: 'demo-a' }, claims(), KEY_A)), 'UnsupportedAlgorithm', String(alg));
  }
  assert.equal(await check(tokenWith({ kid: 'demo-a' }, claims(), KEY_A)), 'UnsupportedAlgorithm');
  const none = `${tokenWith({ alg: 'none', kid: 'demo-a' }, claims(), KEY_A).split('.').slice(0, 2).join('.')}.`;
  assert.equal(await check(none), 'UnsupportedAlgorithm');
});

test('crit_and_kid', async () => {
  assert.equal(await check(tokenWith({ alg: 'RS256', kid: 'demo-a', crit: ['exp'] }, claims(), KEY_A)), 'CriticalHeader');
  assert.equal(await check(tokenWith({ alg: 'RS256' }, claims(), KEY_A)), 'MissingKeyId');
  assert.equal(await check(tokenWith({ alg: 'RS256', kid: 'nope' }, claims(), KEY_A)), 'UnknownKeyId');
});

test('signatures', async () => {
  assert.equal(await check(tokenWith({ alg: 'RS256', kid: 'demo-a' }, claims(), KEY_B)), 'BadSignature');
  const good = token(claims());
  const [header, , signature] = good.split('.');
  const forged = token(with_(claims(), 'aud', [AUDIENCE, 'x'])).split('.')[1];
  assert.equal(await check(`${header}.${forged}.${signature}`), 'BadSignature');
  const flipped = good.split('');
  const middle = flipped.length - 100;
  flipped[middle] = flipped[middle] === 'A' ? 'B' : 'A';
  assert.equal(await check(flipped.join('')), 'BadSignature');
  assert.equal(await check(good.slice(0, -2)), 'BadSignature');
});

test('expiry_with_leeway', async () => {
  assert.equal(await check(token(with_(claims(), 'exp', NOW - 60))), 'ok', 'within the 60 s leeway');
  assert.equal(await check(token(with_(claims(), 'exp', NOW - 61))), 'Expired');
  assert.equal(await check(token(without(claims(), 'exp'))), 'MissingClaim(exp)');
  assert.equal(await check(token(with_(claims(), 'exp', 'soon'))), 'InvalidClaim(exp)');
  assert.equal(await check(token(with_(claims(), 'exp', 1.79e9 + 100.5))), 'ok', 'fractional');
  assert.equal(await check(token(with_(claims(), 'exp', -5))), 'Expired');
  assert.equal(await check(token(with_(claims(), 'exp', NOW - 1)), { leeway: 0 }), 'Expired');
});

test('missing_exp_only_with_max_age', async () => {
  const lenient = { allowMissingExp: true, maxAge: 600 };
  assert.equal(await check(token(without(claims(), 'exp')), lenient), 'ok');
  assert.equal(await check(token(with_(without(claims(), 'exp'), 'iat', NOW - 661)), lenient), 'TokenTooOld');
  assert.equal(await check(token(without(without(claims(), 'exp'), 'iat')), lenient), 'MissingClaim(iat)');
  assert.throws(() => receiver({ allowMissingExp: true }), /maxAge/);
});

test('nbf_and_iat', async () => {
  assert.equal(await check(token(with_(claims(), 'nbf', NOW + 60))), 'ok');
  assert.equal(await check(token(with_(claims(), 'nbf', NOW + 61))), 'NotYetValid');
  assert.equal(await check(token(with_(claims(), 'iat', NOW + 61))), 'IssuedInFuture');
  assert.equal(await check(token(with_(claims(), 'iat', NOW - 160)), { maxAge: 100 }), 'ok');
  assert.equal(await check(token(with_(claims(), 'iat', NOW - 161)), { maxAge: 100 }), 'TokenTooOld');
});

test('audience', async () => {
  const aud = (value, options) => check(token(with_(claims(), 'aud', value)), options);
  assert.equal(await aud(['other', AUDIENCE]), 'ok');
  assert.equal(await aud('https://attacker.example/hook'), 'WrongAudience');
  assert.equal(await aud([]), 'WrongAudience');
  assert.equal(await aud(42), 'InvalidClaim(aud)');
  assert.equal(await aud([AUDIENCE, 1]), 'InvalidClaim(aud)');
  assert.equal(await check(token(without(claims(), 'aud'))), 'MissingClaim(aud)');
  assert.equal(await aud('b', { audience: ['a', 'b'] }), 'ok');
  assert.equal(await check(token(claims()), { audience: [] }), 'WrongAudience');
  // No audience at all: dynamic deliveries are refused (there is no "accept any audience" here).
  assert.equal(await code(new GeminiReceiver({ jwks: JWKS_A }).verify(BODY, headers(token(claims())), { now: NOW })), 'DynamicNotConfigured');
});

test('issuer', async () => {
  const google = { issuer: 'https://generativelanguage.googleapis.com' };
  assert.equal(await check(token(claims()), google), 'ok');
  assert.equal(await check(token(with_(claims(), 'iss', 'https://evil')), google), 'WrongIssuer');
  assert.equal(await check(token(without(claims(), 'iss')), google), 'MissingClaim(iss)');
  assert.equal(await check(token(with_(claims(), 'iss', 1)), google), 'InvalidClaim(iss)');
  assert.equal(await check(token(with_(claims(), 'iss', 'anyone'))), 'ok', 'off by default');
});

test('webhook_headers_as_on_the_static_path', async () => {
  const tok = token(claims());
  const verify = (h, options) => code(receiver({ jwks: JWKS_A, ...options }).verify(BODY, h, { now: NOW }));
  assert.equal(await verify(headers(tok, '1790000000', '')), 'MissingHeader');
  assert.equal(await verify(headers(tok, '')), 'MissingHeader');
  assert.equal(await verify(headers(tok, '+1790000000')), 'InvalidTimestamp');
  assert.equal(await verify(headers(tok, '1789999699')), 'TimestampTooOld');
  assert.equal(await verify(headers(tok, '1790000301')), 'TimestampTooNew');
  assert.equal(await verify(headers(tok, '1789999699'), { tolerance: 301 }), 'ok');
});

test('claims_apply_now_as_given', async () => {
  const later = receiver({ jwks: JWKS_A }).verify(BODY, headers(token(claims()), '1790000361'), { now: NOW + 361 });
  assert.equal(await code(later), 'Expired');
});

test('jwks_keeps_only_rs256_signing_keys', async () => {
  const { Jwks } = await import('webhook-signature-wasm');
  const mixed = await Jwks.from(JWKS_MIXED);
  assert.deepEqual(mixed.kids(), ['demo-a', 'no-alg']);
  assert.deepEqual(mixed.skipped.map((skipped) => skipped.kid), ['weak-1024', 'enc-key', 'rs512', 'ec', undefined]);
  assert.match(mixed.skipped[0].reason, /1024-bit/);
});

test('static deliveries go through the Webhook, with the event parsed', async () => {
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const mac = createHmac('sha256', Buffer.from(secret.slice(6), 'base64')).update(`${ID}.${NOW}.${BODY}`).digest('base64');
  const both = receiver({ secrets: [secret] });
  const verified = await both.verify(new TextEncoder().encode(BODY), headers(`v1,${mac}`), { now: NOW });
  assert.deepEqual([verified.mode, verified.authenticated, verified.key, verified.event.type], ['static', 'signature', 0, 'video.generated']);
  assert.equal(await code(both.verify(`${BODY} `, headers(`v1,${mac}`), { now: NOW })), 'NoMatchingSignature');
});

test('jwksUrl: fetched once, refreshed for an unknown kid at most once per 30 s, kept through failures', async () => {
  let served = JWKS_A;
  let fetches = 0;
  let down = false;
  const server = createServer((request, response) => {
    fetches++;
    if (down) return response.writeHead(503).end();
    response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=60' }).end(JSON.stringify(served));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const url = `http://127.0.0.1:${server.address().port}/jwks.json`;
    const live = receiver({ jwks: undefined, jwksUrl: url });
    const tokenB = tokenWith({ alg: 'RS256', kid: 'demo-b' }, claims(), KEY_B);
    const at = (tok, now) => code(live.verify(BODY, headers(tok, String(now)), { now }));
    assert.deepEqual(await Promise.all([at(token(claims()), NOW), at(token(claims()), NOW)]), ['ok', 'ok']);
    assert.equal(fetches, 1, 'concurrent callers share one fetch');
    served = JWKS_AB; // Google rotates in key B
    assert.equal(await at(tokenB, NOW + 29), 'UnknownKeyId', 'no refresh within 30 s of the last fetch');
    assert.equal(fetches, 1);
    assert.equal(await at(tokenB, NOW + 30), 'ok', 'an unknown kid refreshes');
    assert.equal(fetches, 2);
    const unknown = tokenWith({ alg: 'RS256', kid: 'nope' }, claims(), KEY_A);
    assert.equal(await at(unknown, NOW + 31), 'UnknownKeyId');
    assert.equal(fetches, 2, 'no second refresh within 30 s');
    assert.equal(await at(unknown, NOW + 60), 'UnknownKeyId');
    assert.equal(fetches, 3);
    // max-age 60 is clamped to 5 minutes (last fetched at NOW + 60): no fetch before NOW + 360.
    down = true;
    const late = token(with_(claims(), 'exp', NOW + 900));
    const unknownLate = tokenWith({ alg: 'RS256', kid: 'nope' }, with_(claims(), 'exp', NOW + 900), KEY_A);
    assert.equal(await at(late, NOW + 200), 'ok');
    assert.equal(fetches, 3);
    // Past it, a known kid is served at once while a refresh runs in the background (and fails here).
    assert.equal(await at(late, NOW + 400), 'ok', 'stale keys served');
    for (let waited = 0; fetches < 4 && waited < 100; waited++) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(fetches, 4, 'the background refresh reached the server');
    assert.equal(await at(unknownLate, NOW + 401), 'UnknownKeyId');
    assert.equal(fetches, 4, 'failed fetches are rate-limited too');
    // A document without a usable key does not replace the keys held.
    down = false;
    served = { keys: [] };
    assert.equal(await at(unknownLate, NOW + 431), 'UnknownKeyId');
    assert.equal(fetches, 5);
    assert.equal(await at(late, NOW + 432), 'ok', 'the keys held still serve');
    // 24 hours after the last good fetch (NOW + 60), nothing is served.
    down = true;
    assert.equal(await code(live.verify(BODY, headers(token(with_(claims(), 'exp', NOW + 90000)), String(NOW + 86460)), { now: NOW + 86460 })), 'KeysUnavailable');
  } finally {
    server.close();
  }
  // fetch.rs's urls_must_be_https_but_on_loopback.
  for (const ok of ['https://generativelanguage.googleapis.com/.well-known/jwks.json', 'http://127.0.0.1:8080/jwks.json', 'http://[::1]/j', 'http://localhost/j', 'http://127.1.2.3/j']) {
    assert.doesNotThrow(() => new JwksCache(ok), ok);
  }
  for (const insecure of ['http://example.com/jwks.json', 'http://10.0.0.1/j', 'ftp://127.0.0.1/j']) {
    assert.throws(() => new JwksCache(insecure), /https/, insecure);
  }
});

test('stale keys serve until 24 h after the fetch that brought them, not 24 h past their expiry (fetch.rs STALE_LIMIT)', async () => {
  // gemini/src/fetch.rs: `State::usable` keeps keys while `now < fetched_at + STALE_LIMIT` (24 h), whatever
  // their max-age. Here they expire after an hour; with "24 h past their expiry" they would serve until NOW + 25 h.
  let down = false;
  let fetches = 0;
  const fetcher = async () => {
    fetches++;
    if (down) return new Response(null, { status: 503 });
    return new Response(JSON.stringify(JWKS_A), { headers: { 'content-type': 'application/json', 'cache-control': 'max-age=3600' } });
  };
  const cache = new JwksCache('https://keys.example/jwks.json', { fetch: fetcher });
  assert.ok((await cache.keys('demo-a', NOW)).key('demo-a'));
  down = true;
  assert.ok((await cache.keys('demo-a', NOW + 3599)).key('demo-a'), 'fresh');
  assert.equal(fetches, 1);
  assert.ok((await cache.keys('demo-a', NOW + 86399)).key('demo-a'), 'expired, refreshes failing: still served');
  for (let waited = 0; fetches < 2 && waited < 100; waited++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(fetches, 2, 'a background refresh was tried');
  await assert.rejects(cache.keys('demo-a', NOW + 86400), (error) => error instanceof WebhookVerificationError && error.code === 'KeysUnavailable');
  await assert.rejects(cache.keys('demo-a', NOW + 3600 + 86399), (error) => error.code === 'KeysUnavailable');
});
