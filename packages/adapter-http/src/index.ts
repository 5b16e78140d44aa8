/** @sfm/adapter-http — the HTTP front end of the relay (express), described by its own OpenAPI document. */
export { startHttpServer, type HttpServerHandle } from './server.js';
export { plugin } from './plugin.js';
export { createHttpApp, createApp, type AppParts } from './app.js';
export { buildOpenApi, toOpenApiSchema, API_PREFIX, type OpenApiDocument } from './openapi.js';
export { ROUTES, DEVICE_PARAMS, type RouteSpec, type ParamSpec, type BodySpec, type ResponseSpec } from './routes.js';
export { HTTP_STATUS, HttpError, toSfmError } from './errors.js';
export { HttpSettingsSchema, HttpSettingsError, checkSettings, defaultHttpSettings, httpSettings, DEFAULT_HTTP_PORT, type HttpSettings } from './settings.js';
export type { HttpDeps, Reply, RouteContext } from './http.js';
