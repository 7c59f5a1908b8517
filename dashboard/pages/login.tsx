import { Layout } from "../layout.tsx";

/** Sign-in with an API key; `next` is where to go afterwards. */
export function LoginPage(props: { next: string; error?: string }) {
  return (
    <Layout title="Sign in" signedIn={false}>
      <form class="login" method="post" action="/dashboard/login">
        <h1>Sign in</h1>
        <label for="apiKey">API key</label>
        <input id="apiKey" name="apiKey" type="password" autocomplete="current-password" required autofocus />
        <input type="hidden" name="next" value={props.next} />
        {props.error && (
          <p class="error" role="alert">
            {props.error}
          </p>
        )}
        <button type="submit">Sign in</button>
      </form>
    </Layout>
  );
}
