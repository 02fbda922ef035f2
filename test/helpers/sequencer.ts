/**
 * Runs the measurement-bound tests (test/measurement/) first, on a machine the rest of the suite has not yet
 * loaded: their bounds are about the lab's lag figures, which a disk still busy with an earlier file's stack
 * (servers stopping, datadirs deleted) or a just-finished k6 run would blur. The rest keeps vitest's order.
 */
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const FIRST = '/test/measurement/';

export default class MeasurementFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const first = sorted.filter((f) => f.moduleId.includes(FIRST));
    return [...first, ...sorted.filter((f) => !f.moduleId.includes(FIRST))];
  }
}
