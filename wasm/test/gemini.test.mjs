// GeminiReceiver against the cases and fixtures of the Rust crate's tests
// (gemini/tests/dynamic.rs, keys and JWKS from gemini/tests/fixtures/jwt): each
// test here names the Rust test it mirrors, with the same tokens, clock and
// expected error. Tokens are signed here with node:crypto from the committed
// PEM keys, as the Rust tests sign them with jsonwebtoken.
import assert from 'node:assert/strict';
import { createHash, createHmac, createSign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { test } from 'node:test';
import { CapabilityError, GeminiReceiver, JobCapabilities, Jwks, JwksCache, WebhookVerificationError } from 'webhook-signature-wasm';

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
  // binding.rs's unit tests: base64url, base64 (each under a digest name), upper-case hex, nested.
  const named = [['payload_digest', createHash('sha256').update(BODY).digest('base64url')],
    ['payload_digest', createHash('sha256').update(BODY).digest('base64')], ['bodyHash', digest.toUpperCase()]];
  for (const [name, form] of named) {
    assert.equal((await receiver().verify(BODY, headers(token(with_(claims(), name, form))), { now: NOW })).boundBy, name, form);
  }
  // A digest under a name that does not say so decides nothing, whatever it looks like.
  assert.equal((await receiver().verify(BODY, headers(token(with_(claims(), 'd', digest))), { now: NOW })).authenticated, 'bearer-token');
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
  // binding.rs an_embedded_event_binds_only_i_json: numbers compare by kind (1.0 is a float, not the integer 1),
  // integers past 2^53 − 1 and invalid UTF-8 are not I-JSON; spacing and member order do not matter.
  const event = { type: 'batch.succeeded', data: { id: 'b1', n: 1 } };
  const bind = async (body, claim = event) => (await receiver().verify(body, headers(token(with_(claims(), 'event', claim))), { now: NOW })).authenticated;
  assert.equal(await bind('{"type":"batch.succeeded","data":{"id":"b1","n":1.0e0}}'), 'bearer-token');
  assert.equal(await bind(' {"data": {"n": 1, "id": "b1"}, "type": "batch.succeeded"}\n'), 'signature');
  assert.equal(await bind('{"n":9007199254740993}', { n: 9007199254740993 }), 'bearer-token');
  const latin1 = Uint8Array.from([...'{"s":"\xe9"}'].map((c) => c.charCodeAt(0)));
  assert.equal(await bind(latin1, { s: '\ufffd' }), 'bearer-token');
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

test('crit_present_is_refused_even_when_null_or_empty', async () => {
  for (const crit of [null, [], ['b64']]) {
    assert.equal(await check(tokenWith({ alg: 'RS256', kid: 'demo-a', crit }, claims(), KEY_A)), 'CriticalHeader', JSON.stringify(crit));
  }
});

test('header_and_claims_must_be_json_objects', async () => {
  assert.equal(await check(tokenWith(['RS256', 'demo-a'], claims(), KEY_A)), 'MalformedToken(Header)');
  const header = { alg: 'RS256', kid: 'demo-a' };
  assert.equal(await check(tokenWith(header, [NOW + 300, null, NOW, AUDIENCE, null, null], KEY_A)), 'MalformedToken(Claims)');
  for (const notObject of [null, 'x', 1]) {
    assert.equal(await check(tokenWith(header, notObject, KEY_A)), 'MalformedToken(Claims)', JSON.stringify(notObject));
  }
  // Claims that are not UTF-8, or hold a number serde_json cannot read: not JSON to the crate either.
  const raw = (bytes) => `${encode(header)}.${Buffer.from(bytes).toString('base64url')}.c2ln`;
  assert.equal(await check(raw([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d])), 'MalformedToken(Claims)');
  assert.equal(await check(raw(Buffer.from('{"aud":"x","exp":1e400}'))), 'MalformedToken(Claims)');
  const twice = `${encode(header)}.${Buffer.from(`{"jti":"a","jti":"b","aud":"${AUDIENCE}","exp":${NOW + 300}}`).toString('base64url')}.c2ln`;
  assert.equal(await check(twice), 'MalformedToken(Claims)', 'a repeated registered claim');
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
  const mixed = await Jwks.from(JWKS_MIXED);
  assert.deepEqual(mixed.kids(), ['demo-a', 'no-alg']);
  assert.deepEqual(mixed.skipped.map(({ kid, code }) => [kid, code]),
    [['weak-1024', 'Size'], ['enc-key', 'Use'], ['rs512', 'Algorithm'], ['ec', 'KeyType'], [undefined, 'MissingKeyId']]);
  // The reasons as the crate's SkipReason displays them.
  assert.deepEqual(mixed.skipped.map(({ reason }) => reason), ['1024-bit modulus, outside 2048 to 8192', 'use "enc" is not sig',
    'alg "RS512" is not RS256', 'kty "EC" is not RSA', 'no kid']);
  const duplicate = await Jwks.from({ keys: [JWKS_A.keys[0], JWKS_A.keys[0]] });
  assert.deepEqual(duplicate.skipped.map(({ code }) => code), ['DuplicateKeyId', 'DuplicateKeyId']);
  await assert.rejects(Jwks.from([]), TypeError);
  const odd = await Jwks.from({ keys: [1, { kty: 'RSA', kid: 'k', n: '!', e: 'AQAB' }, { ...JWKS_A.keys[0], kid: 'nulls', use: null, alg: null }] });
  assert.deepEqual(odd.skipped.map(({ code }) => code), ['NotAnObject', 'InvalidComponents']);
  assert.deepEqual(odd.kids(), ['nulls'], 'a null member is an absent one');
  const weak = tokenWith({ alg: 'RS256', kid: 'weak-1024' }, claims(), KEY_A);
  assert.equal(await check(weak, { jwks: JWKS_MIXED }), 'UnknownKeyId');
});

test('jwks_keys_that_cannot_verify_are_skipped_with_a_reason', async () => {
  const { n } = JWKS_A.keys[0];
  const paddedN = Buffer.concat([Buffer.from([0]), Buffer.from(n, 'base64url')]).toString('base64url');
  const variant = (kid, modulus, e) => ({ kty: 'RSA', kid, n: modulus, e });
  const document = { keys: [
    variant('even-e', n, 'Ag'), variant('e-one', n, 'AQ'), variant('e-zero-byte', n, 'AAEAAQ'), variant('e-huge', n, 'AgAAAAE'),
    variant('n-zero-byte', paddedN, 'AQAB'), variant('twin', n, 'AQAB'), variant('twin', n, 'AQAB'), variant('ok', n, 'AQAB'),
  ] };
  const parsed = await Jwks.from(document);
  assert.deepEqual(parsed.kids(), ['ok']);
  assert.deepEqual(parsed.skipped.map(({ kid, code }) => [kid, code]), [['even-e', 'Exponent'], ['e-one', 'Exponent'],
    ['e-zero-byte', 'NonMinimalEncoding'], ['e-huge', 'Exponent'], ['n-zero-byte', 'NonMinimalEncoding'],
    ['twin', 'DuplicateKeyId'], ['twin', 'DuplicateKeyId']]);
  assert.equal(parsed.skipped[0].reason, 'e is even, below 3 or above 2^33 - 1');
  assert.equal(await check(tokenWith({ alg: 'RS256', kid: 'twin' }, claims(), KEY_A), { jwks: document }), 'UnknownKeyId');
  assert.equal(await check(tokenWith({ alg: 'RS256', kid: 'ok' }, claims(), KEY_A), { jwks: document }), 'ok');
});

test('an_embedded_event_binds_only_through_its_named_claim', async () => {
  const event = JSON.parse(BODY);
  const data = JSON.stringify(event.data);
  const tok = token(with_(claims(), 'event', event));
  const replayed = await receiver().verify(data, headers(tok), { now: NOW });
  assert.equal(replayed.authenticated, 'bearer-token', 'the event\'s data as the body binds nothing');
  assert.equal(await check(tok, { requireBoundBody: true }, data), 'BodyNotBound');
  assert.equal(await check(tok, { requireBoundBody: true }), 'ok');
  assert.equal((await receiver().verify(BODY, headers(token(with_(claims(), 'context', event))), { now: NOW })).authenticated, 'bearer-token');
});

test('the_binding_claims_can_be_named', async () => {
  const digest = createHash('sha256').update(BODY).digest('base64url');
  const named = { requireBodyBoundBy: ['x-goog-body-sha256'] };
  const tok = token(with_(claims(), 'x_goog_body_sha256', digest));
  assert.equal((await receiver(named).verify(BODY, headers(tok), { now: NOW })).boundBy, 'x_goog_body_sha256');
  assert.equal(await check(tok, named, '{}'), 'BodyMismatch');
  assert.equal(await check(token(with_(claims(), 'body_sha256', digest)), named), 'BodyNotBound', 'a known name is not a named one');
  // binding.rs caller_named_claims: an object under a named claim is an embedded event.
  const only = { requireBodyBoundBy: 'x-body' };
  assert.equal(await check(token(with_(claims(), 'x_body', { a: 1 })), only, '{"a":1}'), 'ok');
  assert.equal(await check(token(with_(claims(), 'x_body', { a: 1 })), only, '{"a":2}'), 'BodyNotBound');
  assert.equal(await check(token(with_(claims(), 'xbody', 7)), only), 'BodyMismatch');
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
    // The cache runs on its own (monotonic) clock, set here by hand as the crate's tests set their TestClock.
    let clock = 0;
    const live = receiver({ jwks: undefined, jwksCache: new JwksCache(url, { clock: () => clock }) });
    const tokenB = tokenWith({ alg: 'RS256', kid: 'demo-b' }, claims(), KEY_B);
    const at = (tok, now) => {
      clock = now - NOW;
      return code(live.verify(BODY, headers(tok, String(now)), { now }));
    };
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
    assert.equal(await at(token(with_(claims(), 'exp', NOW + 90000)), NOW + 86460), 'KeysUnavailable');
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
  let clock = 0;
  const cache = new JwksCache('https://keys.example/jwks.json', { fetch: fetcher, clock: () => clock });
  const at = (secs) => {
    clock = secs;
    return cache.keys('demo-a');
  };
  assert.ok((await at(0)).key('demo-a'));
  down = true;
  assert.ok((await at(3599)).key('demo-a'), 'fresh');
  assert.equal(fetches, 1);
  assert.ok((await at(86399)).key('demo-a'), 'expired, refreshes failing: still served');
  for (let waited = 0; fetches < 2 && waited < 100; waited++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(fetches, 2, 'a background refresh was tried');
  await assert.rejects(at(86400), (error) => error instanceof WebhookVerificationError && error.code === 'KeysUnavailable');
  await assert.rejects(at(3600 + 86399), (error) => error.code === 'KeysUnavailable');
});

test('the cache follows its own clock, not the deliveries\' now; a fetch past its deadline stops counting (fetch.rs)', async () => {
  let fetches = 0;
  let hang = false;
  const fetcher = async (url, { signal }) => {
    fetches++;
    // A fetch that never settles and ignores its signal: its deadline frees the claim.
    if (hang) return new Promise(() => {});
    return new Response(JSON.stringify(JWKS_A), { headers: { 'cache-control': 'max-age=600' } });
  };
  let clock = 0;
  const cache = new JwksCache('https://keys.example/jwks.json', { fetch: fetcher, clock: () => clock, fetchTimeout: 50 });
  const live = receiver({ jwks: undefined, jwksCache: cache });
  // A wall clock stepped back a day changes nothing: the keys stay fresh, and refreshes are not blocked.
  assert.equal(await code(live.verify(BODY, headers(token(claims())), { now: NOW })), 'ok');
  const back = NOW - 86400;
  const stepped = token({ ...claims(), iat: back, exp: back + 300 });
  assert.equal(await code(live.verify(BODY, headers(stepped, String(back)), { now: back })), 'ok');
  assert.equal(fetches, 1);
  clock = 30;
  const unknown = tokenWith({ alg: 'RS256', kid: 'nope' }, claims(), KEY_A);
  assert.equal(await code(live.verify(BODY, headers(unknown), { now: NOW })), 'UnknownKeyId', 'refreshed for an unknown kid');
  assert.equal(fetches, 2);
  hang = true;
  clock = 60;
  assert.equal(await code(live.verify(BODY, headers(unknown), { now: NOW })), 'UnknownKeyId', 'the hung fetch ends at its deadline');
  assert.equal(fetches, 3);
  clock = 90;
  assert.equal(await code(live.verify(BODY, headers(unknown), { now: NOW })), 'UnknownKeyId', 'and no longer holds the claim');
  assert.equal(fetches, 4);
  assert.equal(await code(live.verify(BODY, headers(token(claims())), { now: NOW })), 'ok', 'the keys held still serve');
});

// gemini/tests/replay.rs: a token resent under a new webhook-id with a fresh timestamp has the same replay key.
const replayKey = async (tok, body, id, secs, options) => {
  const verified = await receiver({ jwks: JWKS_A, secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'], ...options })
    .verify(body, headers(tok, String(NOW + secs), id), { now: NOW + secs });
  assert.match(verified.replayKey, /^[0-9a-f]{64}$/);
  return verified;
};
/** The replay key by the layout gemini/src/replay.rs documents, computed here with node:crypto. */
function expectedKey(domain, ...parts) {
  const hash = createHash('sha256').update(`webhook-signature-gemini replay v1 ${domain}\0`);
  for (const part of parts) {
    const length = Buffer.alloc(8);
    length.writeBigUInt64BE(BigInt(part.length));
    hash.update(length).update(part);
  }
  return hash.digest('hex');
}
const signatureOf = (tok) => Buffer.from(tok.split('.')[2], 'base64url');

test('a_resent_token_has_the_same_key_under_any_id_and_timestamp', async () => {
  const tok = token(claims());
  const first = await replayKey(tok, BODY, 'msg_first', 0);
  const resent = await replayKey(tok, BODY, 'msg_attacker_1', 120);
  const again = await replayKey(tok, BODY, 'msg_attacker_2', 240);
  assert.deepEqual([resent.replayKey, again.replayKey], [first.replayKey, first.replayKey]);
  const retry = token(with_(claims(), 'iat', NOW + 1));
  assert.notEqual((await replayKey(retry, BODY, 'msg_first', 0)).replayKey, first.replayKey);
});

test('without_jti_the_body_is_part_of_the_key', async () => {
  const tok = token(claims());
  const verified = await replayKey(tok, BODY, ID, 0);
  assert.equal(verified.replaySource, 'SignatureAndBody');
  assert.equal(verified.replayKey, expectedKey('signature+body', signatureOf(tok), createHash('sha256').update(BODY).digest()));
  const other = await replayKey(tok, '{"type":"batch.succeeded"}', 'msg_other', 0);
  assert.notEqual(other.replayKey, verified.replayKey);
});

test('a_token_that_binds_the_body_is_one_delivery_however_the_body_is_spelled', async () => {
  const event = JSON.parse(BODY);
  const tok = token(with_(claims(), 'event', event));
  const first = await replayKey(tok, BODY, 'msg_1', 0);
  const respelled = JSON.stringify(event, null, 2);
  assert.equal((await replayKey(tok, respelled, 'msg_2', 60)).replayKey, first.replayKey);
  assert.equal(first.replaySource, 'Signature');
  assert.equal(first.replayKey, expectedKey('signature', signatureOf(tok)));
});

test('with_jti_the_token_is_used_once', async () => {
  const tok = token(with_(claims(), 'jti', '3f0c2a1e-0001'));
  const first = await replayKey(tok, BODY, 'msg_1', 0);
  assert.equal((await replayKey(tok, '{"type":"batch.succeeded"}', 'msg_2', 60)).replayKey, first.replayKey);
  assert.equal(first.replaySource, 'TokenId');
  // replay.rs the_key_is_stable_across_versions: JTI_KEY_HEX, pinned by the crate and computed there with Python's hashlib.
  assert.equal(first.replayKey, 'c4c08a967089215cfd460763403f88fe87520b59f4731f02fc176eeb3388bd73');
  assert.notEqual((await replayKey(token(with_(claims(), 'jti', '3f0c2a1e-0002')), BODY, 'msg_3', 0)).replayKey, first.replayKey);
  const elsewhere = token({ ...claims(), jti: '3f0c2a1e-0001', iss: 'https://x' });
  assert.notEqual((await replayKey(elsewhere, BODY, 'msg_4', 0)).replayKey, first.replayKey);
  const noIss = token(without(with_(claims(), 'jti', 'j'), 'iss'));
  assert.equal((await replayKey(noIss, BODY, 'msg_5', 0)).replayKey, expectedKey('jti', Buffer.from(''), Buffer.from('j')));
});

test('jti_must_be_a_non_empty_string', async () => {
  for (const jti of ['', 7, ['a'], { id: 'a' }]) {
    assert.equal(await check(token(with_(claims(), 'jti', jti))), 'InvalidClaim(jti)', JSON.stringify(jti));
  }
  assert.equal(await check(token(with_(claims(), 'iss', ['x']))), 'InvalidClaim(iss)', 'the replay key reads iss as a string');
});

test('static_deliveries_have_no_replay_key', async () => {
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const mac = createHmac('sha256', Buffer.from(secret.slice(6), 'base64')).update(`${ID}.${NOW}.${BODY}`).digest('base64');
  const verified = await receiver({ secrets: [secret] }).verify(BODY, headers(`v1,${mac}`), { now: NOW });
  assert.equal(verified.mode, 'static');
  assert.equal('replayKey' in verified, false);
});

test('replay keys agree with the Rust crate on its own tokens (fixtures/replay-keys.json)', async () => {
  const fixture = JSON.parse(readFileSync(new URL('./fixtures/replay-keys.json', import.meta.url), 'utf8'));
  assert.ok(fixture.cases.length >= 6);
  for (const { case: name, token: tok, body, source, replayKey: expected } of fixture.cases) {
    const verified = await receiver({ jwks: JWKS_A }).verify(body, headers(tok), { now: NOW });
    assert.deepEqual([verified.replaySource, verified.replayKey], [source, expected], name);
  }
});

test('tokens_older_than_a_day_by_iat_are_refused_by_default', async () => {
  const day = 24 * 60 * 60;
  const aged = (age) => token({ ...claims(), iat: NOW - age, exp: NOW + 300 });
  assert.equal(await check(aged(day + 60)), 'ok', 'within the leeway');
  assert.equal(await check(aged(day + 61)), 'TokenTooOld');
  assert.equal(await check(aged(day + 61), { maxAge: null }), 'ok');
  assert.equal(await check(token(without(claims(), 'iat'))), 'ok', 'without iat, the default does not apply');
  assert.equal(await check(token(without(claims(), 'iat')), { maxAge: 600 }), 'MissingClaim(iat)');
});

// gemini/tests/authorization.rs
const ACCOUNT = 'gemini-webhooks@project.iam.gserviceaccount.com';

test('required_claim_values', async () => {
  const email = { requireClaims: { email: ACCOUNT } };
  assert.equal(await check(token(with_(claims(), 'email', ACCOUNT)), email), 'ok');
  assert.equal(await check(token(with_(claims(), 'email', 'someone@else')), email), 'ClaimNotAccepted');
  assert.equal(await check(token(claims()), email), 'ClaimNotAccepted', 'absent');
  const both = { requireClaims: { email: ACCOUNT, tier: 2 } };
  const good = { ...claims(), email: ACCOUNT, tier: 2 };
  assert.equal(await check(token(good), both), 'ok');
  assert.equal(await check(token(with_(good, 'tier', '2')), both), 'ClaimNotAccepted', 'JSON equality: "2" is not 2');
  const float = tokenWith({ alg: 'RS256', kid: 'demo-a' }, null, KEY_A).split('.')[0];
  const raw = `${float}.${Buffer.from(JSON.stringify(good).replace('"tier":2', '"tier":2.0')).toString('base64url')}`;
  const signed = `${raw}.${createSign('RSA-SHA256').update(raw).sign(KEY_A).toString('base64url')}`;
  assert.equal(await check(signed, both), 'ClaimNotAccepted', 'and 2.0 is not 2, as serde_json compares them');
  assert.equal(await check(token(with_(good, 'tier', { n: [1] })), { requireClaims: { tier: { n: [1] } } }), 'ok');
});

test('a_claims_predicate_runs_on_verified_claims_only', async () => {
  let calls = 0;
  const predicate = { claimsCheck: (verified) => {
    calls++;
    return verified.email_verified === true;
  } };
  assert.equal(await check(token(with_(claims(), 'email_verified', true)), predicate), 'ok');
  assert.equal(await check(token(claims()), predicate), 'ClaimNotAccepted');
  const forged = tokenWith({ alg: 'RS256', kid: 'demo-a' }, with_(claims(), 'email_verified', true), KEY_B);
  assert.equal(await check(forged, predicate), 'BadSignature');
  assert.equal(calls, 2, 'a forged token never reaches the predicate');
});

test('capability_known_answer', async () => {
  // authorization.rs: HMAC-SHA256 under 32 bytes of 0x07 over "webhook-signature-gemini job capability v1\0job-42",
  // computed there with Python's hmac module and checked by the crate.
  const capabilities = new JobCapabilities(new Uint8Array(32).fill(7));
  const capability = await capabilities.issueFor('job-42');
  assert.equal(capability, 'job-42.ySfUnIa-1LQ0yqaDf6Q9Wovgvl9yuHOnyxRKRcJzghU');
  assert.equal(await capabilities.check(capability), 'job-42');
});

test('issued_capabilities_check_in_a_path_or_a_query', async () => {
  const capabilities = new JobCapabilities('0123456789abcdef0123456789abcdef');
  const issued = await capabilities.issue();
  const nonce = issued.split('.')[0];
  assert.equal(nonce.length, 22, '128 random bits');
  assert.notEqual(await capabilities.issue(), issued);
  const path = `/webhooks/gemini/${issued}`;
  assert.equal(await capabilities.check(path.slice('/webhooks/gemini/'.length)), nonce);
  assert.equal(await capabilities.check(new URL(`https://x/?t=${issued}`).searchParams.get('t')), nonce);
});

test('bad_capabilities_are_refused', async () => {
  const capabilities = new JobCapabilities(new Uint8Array(32).fill(7));
  const good = 'job-42.ySfUnIa-1LQ0yqaDf6Q9Wovgvl9yuHOnyxRKRcJzghU';
  const refused = async (capability) => {
    try {
      await capabilities.check(capability);
    } catch (error) {
      assert.ok(error instanceof CapabilityError);
      return error.code;
    }
    return 'ok';
  };
  const other = await new JobCapabilities(new Uint8Array(32).fill(8)).issueFor('job-42');
  assert.equal(await refused(other), 'Mismatch');
  assert.equal(await refused(good.replace('job-42', 'job-43')), 'Mismatch');
  for (const malformed of ['', 'job-42', '.ySfUnIa-1LQ0yqaDf6Q9Wovgvl9yuHOnyxRKRcJzghU', 'job-42.',
    'job-42.ySfUnIa-1LQ0yqaDf6Q9Wovgvl9yuHOnyxRKRcJzgh', 'job-42.ySfUnIa-1LQ0yqaDf6Q9Wovgvl9yuHOnyxRKRcJzghU=',
    'job-42.ySfUnIa+1LQ0yqaDf6Q9Wovgvl9yuHOnyxRKRcJzghU', 'job-42.ySfUnIa-1LQ0yqaDf6Q9Wovgvl9yuHOnyxRKRcJzghV',
    'job 42.ySfUnIa-1LQ0yqaDf6Q9Wovgvl9yuHOnyxRKRcJzghU', 'job-42.ySfUnIa-1LQ0yqaDf6Q9Wovgvl9yuHOnyxRKRcJzghU.x']) {
    assert.equal(await refused(malformed), 'Malformed', malformed);
  }
  assert.equal(await refused(good), 'ok');
  assert.throws(() => new JobCapabilities(new Uint8Array(31)), (error) => error.code === 'ShortSecret');
  for (const nonce of ['', 'a.b', 'a/b', 'n'.repeat(65)]) {
    await assert.rejects(capabilities.issueFor(nonce), (error) => error.code === 'InvalidNonce', nonce);
  }
  assert.match(await capabilities.issueFor('n'.repeat(64)), /^n{64}\./);
});

test('per_job_uris_under_one_endpoint', async () => {
  const base = 'https://receiver.example/webhooks/gemini';
  const prefixed = { audience: undefined, audiencePrefix: base };
  const aud = (value, options = prefixed) => check(token(with_(claims(), 'aud', value)), options);
  for (const accepted of [base, `${base}/job-42.tag`, `${base}?t=job-42.tag`]) assert.equal(await aud(accepted), 'ok', accepted);
  for (const refused of ['https://receiver.example/webhooks/gemini-evil/x', 'https://receiver.example/webhooks/geminiX',
    'https://receiver.example/webhooks', 'https://attacker.example/webhooks/gemini/x']) {
    assert.equal(await aud(refused), 'WrongAudience', refused);
  }
  assert.equal(await aud('https://receiver.example.evil.com/x', { audience: undefined, audiencePrefix: 'https://receiver.example' }), 'WrongAudience');
});
