import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffDelayMs } from './backoff.ts';
import { CircuitBreaker } from './breaker.ts';
import { Budget } from './budget.ts';
import { LlmProviderConfigSchema } from './config.ts';
import { parseRetryAfter } from './http.ts';

describe('CircuitBreaker', () => {
  it('closed → open after N failures → half-open grants one probe → closed', () => {
    let now = 0;
    const b = new CircuitBreaker({ failureThreshold: 3, cooldownMs: 1000, now: () => now });
    for (let i = 0; i < 2; i++) b.onFailure();
    assert.equal(b.state, 'closed');
    b.onSuccess(); // success resets the consecutive count
    for (let i = 0; i < 3; i++) b.onFailure();
    assert.equal(b.state, 'open');
    assert.equal(b.tryAcquire(), false);
    assert.equal(b.retryInMs(), 1000);
    now = 1000;
    assert.equal(b.state, 'half-open');
    assert.equal(b.tryAcquire(), true);
    assert.equal(b.tryAcquire(), false, 'only one probe at a time');
    b.onSuccess();
    assert.equal(b.state, 'closed');
  });
});

describe('Budget', () => {
  it('rolls the calls-per-minute window and resets tokens at UTC midnight', () => {
    let now = Date.UTC(2025, 0, 1, 23, 0, 0);
    const b = new Budget({ callsPerMinute: 2, tokensPerDay: 1000, now: () => now });
    assert.equal(b.tryConsumeCall(), undefined);
    assert.equal(b.tryConsumeCall(), undefined);
    assert.equal(b.tryConsumeCall(), 'calls_per_minute');
    assert.equal(b.remainingRatio('calls_per_minute'), 0);
    now += 60_001;
    assert.equal(b.tryConsumeCall(), undefined);
    b.chargeTokens(1000);
    assert.equal(b.tryConsumeCall(), 'tokens_per_day');
    assert.equal(b.remainingRatio('tokens_per_day'), 0);
    now = Date.UTC(2025, 0, 2, 0, 5, 0);
    assert.equal(b.remainingRatio('tokens_per_day'), 1);
  });

  it('0 means unlimited', () => {
    const b = new Budget({ callsPerMinute: 0, tokensPerDay: 0 });
    for (let i = 0; i < 1000; i++) assert.equal(b.tryConsumeCall(), undefined);
    assert.equal(b.remainingRatio('calls_per_minute'), 1);
  });
});

describe('backoff and Retry-After', () => {
  it('jitters within the exponential ceiling and honours Retry-After as a floor', () => {
    const o = { baseMs: 100, maxMs: 1000 };
    assert.equal(backoffDelayMs(0, { ...o, random: () => 0.999 }), 99);
    assert.equal(backoffDelayMs(3, { ...o, random: () => 0.5 }), 400);
    assert.equal(backoffDelayMs(10, { ...o, random: () => 0.999 }), 999);
    assert.equal(backoffDelayMs(0, { ...o, random: () => 0 }, 5000), 5000);
  });

  it('parses delta-seconds and HTTP dates', () => {
    assert.equal(parseRetryAfter('2'), 2000);
    assert.equal(parseRetryAfter(null), undefined);
    assert.equal(parseRetryAfter('soon'), undefined);
    const now = Date.UTC(2025, 0, 1, 0, 0, 0);
    assert.equal(parseRetryAfter('Wed, 01 Jan 2025 00:00:30 GMT', now), 30_000);
  });
});

describe('LlmProviderConfigSchema', () => {
  it('fills defaults and refuses azure without apiVersion or both key sources', () => {
    const c = LlmProviderConfigSchema.parse({
      kind: 'openai',
      baseUrl: 'http://127.0.0.1:11434/v1',
      model: 'llama3.1',
    });
    assert.equal(c.timeoutMs, 60_000);
    assert.equal(c.budgets.callsPerMinute, 60);
    assert.equal(c.breaker.failureThreshold, 5);
    assert.equal(
      LlmProviderConfigSchema.safeParse({ kind: 'azure-openai', baseUrl: 'https://x', model: 'm' }).success,
      false,
    );
    assert.equal(
      LlmProviderConfigSchema.safeParse({
        kind: 'openai',
        baseUrl: 'https://x',
        model: 'm',
        apiKeyEnv: 'A',
        apiKeyFile: '/k',
      }).success,
      false,
    );
    assert.equal(
      LlmProviderConfigSchema.safeParse({ kind: 'openai', baseUrl: 'file:///etc/passwd', model: 'm' })
        .success,
      false,
    );
  });
});
