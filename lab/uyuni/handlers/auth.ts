/** auth.* — login issues a session key; every failure is the same 2950 fault. */
import type { MethodDef } from '../dispatcher.js';
import { uyuniFaults } from '../faults.js';

export function authMethods(): MethodDef[] {
  return [
    {
      name: 'auth.login',
      cache: 'none',
      overloads: [
        {
          params: ['string', 'string'],
          run: (ctx, [user, password]) => {
            if (user !== ctx.credentials.user || password !== ctx.credentials.password) throw uyuniFaults.loginFailed();
            return ctx.sessions.create(user);
          },
        },
        {
          params: ['string', 'string', 'int'],
          run: (ctx, [user, password, duration]) => {
            if (user !== ctx.credentials.user || password !== ctx.credentials.password) throw uyuniFaults.loginFailed();
            return ctx.sessions.create(user, duration as number);
          },
        },
      ],
    },
    {
      name: 'auth.logout',
      cache: 'none',
      overloads: [
        {
          params: ['string'],
          run: (ctx, [key]) => {
            ctx.sessions.lookup(key as string);
            ctx.sessions.destroy(key as string);
            return 1;
          },
        },
      ],
    },
  ];
}
