export {
  type ClusteredVectors,
  type ClusteredVectorsOptions,
  clusteredVectors,
  mulberry32,
} from './clustered-vectors.js';
export { deleteKeys } from './delete-keys.js';
export {
  type AddedJob,
  Parked,
  RecordingFlows,
  RecordingQueue,
  RecordingStageContext,
  recordingLoop,
  ScriptedReasoningModel,
  specPrefix,
} from './loop-fakes.js';
export {
  approximateTokens,
  DEFAULT_EMBEDDING_DIMENSIONS,
  hashingEmbedding,
} from './scripted-model/hashing-embedding.js';
export {
  Fault,
  loadScenarioFile,
  parseScenario,
  Scenario,
  Script,
  ToolCallScript,
  Turn,
  TurnBy,
} from './scripted-model/scenario.js';
export type {
  RecordedEmbeddingRequest,
  RecordedRequest,
  ScriptedModelServer,
  ScriptedModelServerOptions,
} from './scripted-model/scripted-model.server.js';
export { startScriptedModelServer } from './scripted-model/scripted-model.server.js';
