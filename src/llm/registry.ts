/** Provider kinds → factories. New providers register here instead of growing a switch. */
import { FalconerError } from '../errors.ts';
import { AnthropicProvider } from './anthropic.ts';
import type { LlmProviderConfig } from './config.ts';
import { OpenAiCompatibleProvider } from './openai.ts';
import type { ChatProvider } from './types.ts';

export type ProviderFactory = (cfg: LlmProviderConfig, apiKey: string | undefined) => ChatProvider;

const factories = new Map<string, ProviderFactory>();

export function registerProvider(kind: string, factory: ProviderFactory): void {
  factories.set(kind, factory);
}

export function providerKinds(): string[] {
  return [...factories.keys()].sort();
}

export function createProvider(cfg: LlmProviderConfig, apiKey: string | undefined): ChatProvider {
  const factory = factories.get(cfg.kind);
  if (!factory) {
    throw new FalconerError('CONFIG_INVALID', `unknown LLM provider kind ${cfg.kind}`, {
      known: providerKinds(),
    });
  }
  return factory(cfg, apiKey);
}

registerProvider(
  'openai',
  (cfg, apiKey) =>
    new OpenAiCompatibleProvider({
      baseUrl: cfg.baseUrl,
      model: cfg.model,
      apiKey,
      timeoutMs: cfg.timeoutMs,
    }),
);
registerProvider(
  'azure-openai',
  (cfg, apiKey) =>
    new OpenAiCompatibleProvider({
      baseUrl: cfg.baseUrl,
      model: cfg.model,
      apiKey,
      timeoutMs: cfg.timeoutMs,
      azureApiVersion: cfg.apiVersion ?? '2024-10-21',
    }),
);
registerProvider(
  'anthropic',
  (cfg, apiKey) =>
    new AnthropicProvider({ baseUrl: cfg.baseUrl, model: cfg.model, apiKey, timeoutMs: cfg.timeoutMs }),
);
