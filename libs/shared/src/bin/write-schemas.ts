// Writes the published JSON Schemas (schemas/*.schema.json) from the zod contracts: `npm run schemas`.
import { writeFile } from 'node:fs/promises';
import { goalRequestJsonSchema } from '@triad/contracts';

const target = new URL('../../../../schemas/goal-request.schema.json', import.meta.url);
await writeFile(target, `${JSON.stringify(goalRequestJsonSchema(), null, 2)}\n`);
console.log(`wrote ${target.pathname}`);
