// The CDK app (`cdk synth`, `cdk deploy`): the lock service stack, checked by cdk-nag.
import { createLockServiceApp } from './lock-service-app.js';

createLockServiceApp();
