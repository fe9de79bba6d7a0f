// The SDK's configuration loader, reached by path to switch its hidden sources off (see adapters/okta.ts).
declare module '@okta/okta-sdk-nodejs/src/config-loader.js' {
  export class ConfigLoader {
    applyDefaults(): void;
    apply(config: object): void;
  }
}
