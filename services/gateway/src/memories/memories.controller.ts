import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import {
  type CreateMemoryResponse,
  DeleteMemoriesQuery,
  type DeleteMemoriesResponse,
  ListMemoriesQuery,
  type ListMemoriesResponse,
  type MemoryEntry,
  MemoryId,
  MemorySearch,
  MemoryWrite,
  SEMANTIC_MEMORY,
  type SearchMemoriesResponse,
  type SemanticMemory,
} from '@triad/shared';
import type { Caller } from '../auth/api-keys.js';
import { CurrentCaller, Roles } from '../auth/roles.decorator.js';
import { ApiException, parseOr400 } from '../http/api-exception.js';
import { unlessEmbeddingsFail } from './memory-unavailable.js';

/**
 * The tenant's long-term memory: list, search by meaning, add, read and remove facts and lessons. The tenant is the
 * caller's (its key's, or the one an admin key names), never one from the request; another tenant's entry is a 404.
 */
@Controller('v1/memories')
export class MemoriesController {
  constructor(@Inject(SEMANTIC_MEMORY) private readonly memory: SemanticMemory) {}

  @Get()
  @Roles('read')
  async list(@Query() query: Record<string, unknown>, @CurrentCaller() caller: Caller): Promise<ListMemoriesResponse> {
    const q = parseOr400(ListMemoriesQuery, query, 'query');
    const page = await this.memory.list(caller.tenant, q);
    return { memories: page.entries, nextCursor: page.nextCursor };
  }

  /** A fact or lesson written by a person (or their program): trusted, with no source run. */
  @Post()
  @HttpCode(201)
  @Roles('submit')
  async create(@Body() body: unknown, @CurrentCaller() caller: Caller): Promise<CreateMemoryResponse> {
    const write = parseOr400(MemoryWrite, body ?? null);
    const { entry, duplicate } = await unlessEmbeddingsFail(() =>
      this.memory.write({
        ...write,
        tenant: caller.tenant,
        source: { origin: 'api', runId: null, stepId: null },
        untrusted: false,
      }),
    );
    return { memory: entry, duplicate };
  }

  @Post('search')
  @HttpCode(200)
  @Roles('read')
  async search(@Body() body: unknown, @CurrentCaller() caller: Caller): Promise<SearchMemoriesResponse> {
    const query = parseOr400(MemorySearch, body ?? null);
    const { matches } = await unlessEmbeddingsFail(() => this.memory.search(caller.tenant, query));
    return { matches };
  }

  /** Removes every memory a run wrote: the lessons the judge drew from it and its `memorize` calls. */
  @Delete()
  @Roles('submit')
  async removeBySourceRun(
    @Query() query: Record<string, unknown>,
    @CurrentCaller() caller: Caller,
  ): Promise<DeleteMemoriesResponse> {
    const { sourceRunId } = parseOr400(DeleteMemoriesQuery, query, 'query');
    return { deleted: await this.memory.deleteBySourceRun(caller.tenant, sourceRunId) };
  }

  @Get(':id')
  @Roles('read')
  async get(@Param('id') id: string, @CurrentCaller() caller: Caller): Promise<MemoryEntry> {
    const entry = MemoryId.safeParse(id).success ? await this.memory.get(caller.tenant, id) : null;
    if (!entry) throw new ApiException('not_found', `no memory ${id}`);
    return entry;
  }

  @Delete(':id')
  @HttpCode(204)
  @Roles('submit')
  async remove(@Param('id') id: string, @CurrentCaller() caller: Caller): Promise<void> {
    const deleted = MemoryId.safeParse(id).success && (await this.memory.delete(caller.tenant, id));
    if (!deleted) throw new ApiException('not_found', `no memory ${id}`);
  }
}
