/** Resolves the provider API key from an env var or a secret file. The value is never logged. */
import { readFile } from 'node:fs/promises';
import { FalconerError } from '../errors.ts';
import type { LlmProviderConfig } from './config.ts';

export async function resolveApiKey(
  cfg: Pick<LlmProviderConfig, 'apiKeyEnv' | 'apiKeyFile'>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string | undefined> {
  if (cfg.apiKeyEnv) {
    const value = env[cfg.apiKeyEnv];
    if (!value) {
      throw new FalconerError(
        'CONFIG_INVALID',
        `llm.provider.apiKeyEnv names ${cfg.apiKeyEnv}, which is not set`,
        {
          apiKeyEnv: cfg.apiKeyEnv,
        },
      );
    }
    return value.trim();
  }
  if (cfg.apiKeyFile) {
    let text: string;
    try {
      text = await readFile(cfg.apiKeyFile, 'utf8');
    } catch (err) {
      throw new FalconerError(
        'CONFIG_INVALID',
        `llm.provider.apiKeyFile ${cfg.apiKeyFile} cannot be read: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
        { apiKeyFile: cfg.apiKeyFile },
      );
    }
    const key = text.trim();
    if (!key) {
      throw new FalconerError('CONFIG_INVALID', `llm.provider.apiKeyFile ${cfg.apiKeyFile} is empty`, {
        apiKeyFile: cfg.apiKeyFile,
      });
    }
    return key;
  }
  return undefined; // local servers (Ollama, llama.cpp) need none
}
