import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '../config/triad-config.js';
import { modelRefusal } from './model-choice.js';

describe('modelRefusal', () => {
  it("allows no model named, the planner's own, and TRIAD_ALLOWED_MODELS; refuses any other by name", () => {
    const config = loadConfig({ TRIAD_MODEL: 'gpt-4.1-mini', TRIAD_ALLOWED_MODELS: ' gpt-4.1 , o4-mini,' });
    expect(config.model.allowedModels).toEqual(['gpt-4.1-mini', 'gpt-4.1', 'o4-mini']);
    expect(modelRefusal(config, {})).toBeNull();
    for (const model of ['gpt-4.1-mini', 'gpt-4.1', 'o4-mini']) expect(modelRefusal(config, { model })).toBeNull();
    expect(modelRefusal(config, { model: 'unpriced-giant' })).toBe(
      'model "unpriced-giant" is not allowed here (allowed: gpt-4.1-mini, gpt-4.1, o4-mini; TRIAD_ALLOWED_MODELS adds others)',
    );
    // Case and spacing are the model's name: a near miss is another model.
    expect(modelRefusal(config, { model: 'GPT-4.1' })).not.toBeNull();
  });

  it("allows only the planner's model when TRIAD_ALLOWED_MODELS is unset", () => {
    const config = loadConfig({ TRIAD_MODEL: 'm', TRIAD_PLANNER_MODEL: 'p' });
    expect(config.model.allowedModels).toEqual(['p']);
    expect(modelRefusal(config, { model: 'm' })).not.toBeNull();
  });
});
