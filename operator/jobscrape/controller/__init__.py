"""The operator: thin kopf handlers over pure builders and decisions."""
