import { IDENTITIES, identityLabel } from '../identities';
import { signIn } from './identity';

/** The demo's sign-in: pick headquarters or a branch. DEVELOPMENT ONLY: anyone may be anyone. */
export function SignIn({ device }: { device: string }) {
  return (
    <div className="sign-in" data-testid="sign-in">
      <h1>Device {device}: sign in</h1>
      <p>
        Headquarters sees every branch's stock, keeps the catalogue and alone changes prices. A branch device holds the
        products and its own branch's stock only.
      </p>
      <ul>
        {IDENTITIES.map((name) => (
          <li key={name}>
            <button onClick={() => signIn(device, name)}>{identityLabel(name)}</button>
          </li>
        ))}
      </ul>
      <p className="warn">
        Development sign-in: the demo server hands out a token for whichever you pick. A real deployment verifies the
        tokens of its identity provider.
      </p>
    </div>
  );
}
