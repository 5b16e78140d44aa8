/**
 * Where the web application's built files are (@sfm/web's dist/), for the HTTP front end to serve
 * at /. A checkout that was not built has none: the API is served all the same, and the log says
 * how to get the page.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '@sfm/core/kernel';
import { WEB_ROOT } from '@sfm/web';

export function webRoot(logger: Logger, root: string = WEB_ROOT): string | undefined {
  if (existsSync(join(root, 'index.html'))) return root;
  logger.warn({ web_root: root }, 'the web application is not built (pnpm build): / is not served, the API is');
  return undefined;
}
