/**
 * Resizes `name` in `steps` steps of 40 ms, reporting progress after each.
 * @param {number} id the task id
 * @param {string} name the image
 * @param {number} steps how many steps the work takes
 */
function Resize(id, name, steps) {
  const total = steps || 10;
  for (let step = 1; step <= total; step++) {
    Process('utils.time.Sleep', 40);
    Progress(id, step, total, `${name}: step ${step} of ${total}`);
  }
  return { name: name, width: 640, height: 480 };
}

function OnResized(id, res) {
  console.debug(`image #${id} resized: ${JSON.stringify(res)}`);
}
