/**
 * Sends a mail to `to`; the pretend server refuses about one run in three.
 * @param {number} id the task id
 * @param {string} to the recipient
 */
function Send(id, to) {
  Process('utils.time.Sleep', 20);
  if (Math.random() < 0.33) {
    throw new Error(`451 ${to}: mailbox busy, try again later`);
  }
  return { to: to, accepted: true };
}

function OnError(id, err) {
  console.warn(`mail #${id} gave up: ${err.message}`);
}
