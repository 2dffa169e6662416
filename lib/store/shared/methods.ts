import type { Store } from '../types.js'

// How each dialect splits its `Store` into modules: the same way for both.

/** The store methods of dynamic client registration (RFC 7591/7592) and PAR (RFC 9126): each dialect's registration.ts. */
export type RegistrationMethods = Pick<Store, 'registerClient' | 'findClientRegistration' | 'updateClientRegistration' |
  'createPushedAuthorizationRequest' | 'findPushedAuthorizationRequest' | 'startPushedAuthorizationRequest' | 'consumePushedAuthorizationRequest'>

/** The methods that read and write the OAuth records: each dialect's queries.ts. Its store.ts adds maintenance and the caches' methods. */
export type DataMethods = Omit<Store, keyof RegistrationMethods | 'clearExpired' | 'close' | 'watchInvalidations' | 'invalidationsReliable'>
