const { is } = require('bpmnlint-utils');

// The engine runs only processes marked executable; a modeler's default is isExecutable="false".
module.exports = function() {
  function check(node, reporter) {
    if (is(node, 'bpmn:Process') && node.isExecutable !== true) {
      reporter.report(node.id, 'Process is not executable (set isExecutable="true")', [ 'isExecutable' ]);
    }
  }

  return { check };
};
