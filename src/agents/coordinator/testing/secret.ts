/** A fixed link secret shared by the test harness and the crash child (test-only). */
export const SECRET = Buffer.from('falconer-test-link-secret-0123456789abcdef', 'utf8');
