// The ASL a LockedSection synthesizes: what its lock states retry, the owner they send, and the
// way back to the acquire for a redriven run.
import { synthesizeSection, SECTION } from '../support/local-section.js';

type State = Record<string, unknown> & {
  Retry?: { ErrorEquals: string[] }[];
  Catch?: { ErrorEquals: string[]; Next: string }[];
  Parameters?: { Payload?: Record<string, unknown> };
  Branches?: { StartAt: string; States: Record<string, State> }[];
};

/** Every state of the definition, those inside Parallel branches included, by name. */
function statesOf(definition: { States: Record<string, State> }): Record<string, State> {
  const all: Record<string, State> = {};
  const visit = (states: Record<string, State>) => {
    for (const [name, state] of Object.entries(states)) {
      all[name] = state;
      for (const branch of state.Branches ?? []) visit(branch.States);
    }
  };
  visit(definition.States);
  return all;
}

const LOCK_STATES = ['Acquire', 'Confirm', 'Renew', 'Release', 'ReleaseAfterError'];

/** AWS's recommended set for a Lambda task, and the lock function's own fault. */
const TRANSIENT = [
  'Lambda.ClientExecutionTimeoutException',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'InternalError',
];

describe.each([[{}], [{ permits: 3 }]])('a LockedSection with %p', (props) => {
  const states = statesOf(synthesizeSection(props).definition as { States: Record<string, State> });

  it.each(LOCK_STATES)('retries every transient Lambda error in %s', (name) => {
    const retries = states[`${SECTION} ${name}`].Retry ?? [];
    const transient = retries.filter((r) => r.ErrorEquals.includes('Lambda.ServiceException'));
    expect(transient).toHaveLength(1);
    expect([...transient[0].ErrorEquals].sort()).toEqual([...TRANSIENT].sort());
  });

  it.each(LOCK_STATES)('sends the run of the execution as the owner in %s', (name) => {
    expect(states[`${SECTION} ${name}`].Parameters?.Payload?.['owner.$']).toBe(
      "States.Format('{}#run-{}', $$.Execution.Id, $$.Execution.RedriveCount)",
    );
  });

  it('confirms the grant first inside the section, and goes back to the acquire if it is not current', () => {
    const section = states[`${SECTION} Section`];
    expect(section.Branches?.[0].StartAt).toBe(`${SECTION} Confirm`);
    expect(states[`${SECTION} Confirm`].Catch).toEqual([
      expect.objectContaining({ ErrorEquals: ['LockLost'], Next: `${SECTION} GrantNotCurrent` }),
    ]);
    expect(states[`${SECTION} GrantNotCurrent`]).toMatchObject({
      Type: 'Fail',
      Error: 'LockedSection.GrantNotCurrent',
    });
    // Checked before the catch-all that releases and fails.
    expect(section.Catch?.map((c) => [c.ErrorEquals, c.Next])).toEqual([
      [['LockedSection.GrantNotCurrent'], `${SECTION} Acquire`],
      [['States.ALL'], `${SECTION} ReleaseAfterError`],
    ]);
  });
});
