const { is, isAny } = require('bpmnlint-utils');

// A user task is offered to the role its lane names: outside every lane nobody would receive it.
module.exports = function() {
  function laned(process) {
    const ids = new Set();
    const visit = (laneSets) => (laneSets || []).forEach((laneSet) => (laneSet.lanes || []).forEach((lane) => {
      (lane.flowNodeRef || []).forEach((ref) => ids.add(ref.id));
      visit(lane.childLaneSet ? [ lane.childLaneSet ] : []);
    }));
    visit(process.laneSets);
    return ids;
  }

  function check(node, reporter) {
    if (!is(node, 'bpmn:Process')) {
      return;
    }
    const inLane = laned(node);
    (node.flowElements || []).forEach((element) => {
      if (isAny(element, [ 'bpmn:UserTask', 'bpmn:ManualTask' ]) && !inLane.has(element.id)) {
        reporter.report(element.id, 'User task is in no lane (the lane names the role that does it)');
      }
    });
  }

  return { check };
};
