"""CDK application package: per-environment config, app assembly, cdk-nag registration, offline diff."""
