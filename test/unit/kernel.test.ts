import { memoryStore } from 'holdfast';
import { kernelScenarios } from '../scenarios/kernel-scenarios.js';

kernelScenarios(() => memoryStore());
