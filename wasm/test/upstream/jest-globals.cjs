// The part of Jest that npm standardwebhooks' tests use (`test`, and
// `expect(...).toThrow/toBe/toBeUndefined`), on Node's test runner, so the
// file runs unchanged without installing Jest.
'use strict';
const assert = require('node:assert/strict');
const { test } = require('node:test');

globalThis.test = test;
globalThis.expect = (actual) => ({
  toBe(expected) {
    assert.equal(actual, expected);
  },
  toBeUndefined() {
    assert.equal(actual, undefined);
  },
  toThrow(expected) {
    assert.throws(actual, (error) => expected === undefined || error instanceof expected,
      `expected a thrown ${expected?.name ?? 'error'}`);
  },
});
