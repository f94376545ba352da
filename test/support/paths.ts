import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** ../shared/data beside the project, as laid out for developers and CI. */
export const SHARED_DATA = join(PROJECT_ROOT, '..', 'shared', 'data');
