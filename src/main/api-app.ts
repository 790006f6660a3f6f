import type { Config } from '../config';
import { createApp } from '../http/app';
import type { Logger } from '../logger';
import { openServices } from '../services';

/** The API's app and the services it holds, as the API process runs it (and bench:http measures it). */
export async function buildApiApp(config: Config, logger: Logger) {
  const opened = await openServices(config, logger);
  const app = createApp(opened.services);
  return { app, ...opened };
}
