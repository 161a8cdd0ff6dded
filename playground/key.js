// Where the playground keeps the caller's key: this tab's session storage, under this name.
export const KEY_STORAGE = 'inference-ui-key';
