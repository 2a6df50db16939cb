// Rules that catch in the modeler what deployment would refuse later (backend/workflow/deployment.py).
module.exports = {
  configs: {
    recommended: {
      rules: {
        'executable-process': 'error',
        'script-task-has-script': 'error',
        'no-service-task': 'error',
        'user-task-in-lane': 'error',
        'no-timer-after-event-based-gateway': 'error'
      }
    }
  }
};
