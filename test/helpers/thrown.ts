/** What `run` throws, for assertions on an error's code and details; fails when nothing is thrown. */
export const thrown = (run: () => unknown): unknown => {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
};
