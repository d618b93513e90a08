"use strict";
// Sign in with JSON (so another site cannot post this form), then open the board.
document.getElementById("login").addEventListener("submit", async (event) => {
  event.preventDefault();
  const error = document.getElementById("login-error");
  error.textContent = "";
  const body = {
    username: document.getElementById("username").value,
    password: document.getElementById("password").value,
  };
  try {
    const response = await fetch("/api/login", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      credentials: "same-origin",
    });
    if (response.ok) {
      window.location.assign("/");
      return;
    }
    const answer = await response.json().catch(() => ({}));
    error.textContent = answer.error || `Sign-in failed (${response.status})`;
  } catch (e) {
    error.textContent = "The board cannot be reached. Try again in a moment.";
  }
});
