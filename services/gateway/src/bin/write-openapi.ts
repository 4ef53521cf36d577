// Writes the published OpenAPI document (schemas/openapi.json) from the route table: `npm run schemas`.
import { writeFile } from 'node:fs/promises';
import { buildOpenApiDocument } from '../openapi/openapi-document.js';

const target = new URL('../../../../schemas/openapi.json', import.meta.url);
await writeFile(target, `${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`);
console.log(`wrote ${target.pathname}`);
