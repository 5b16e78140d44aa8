/** @sfm/adapter-http — the HTTP front end of the relay (express), described by its own OpenAPI document. */
export { startHttpServer, checkSettings, isLoopback } from './server.js';
export { plugin } from './plugin.js';
export { createHttpApp, createApp, type AppParts, type RouteContext } from './app.js';
export { buildOpenApi, API_PREFIX, type OpenApiDocument } from './openapi.js';
export { ROUTES, DEVICE_PARAMS, type RouteSpec, type ParamSpec, type BodySpec, type ResponseSpec } from './routes.js';
export { COMPONENTS } from './models.js';
export { HttpError, toHttpError, type ErrorCode } from './errors.js';
export type { Schema } from './schema.js';
