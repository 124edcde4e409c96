

def test_login_and_home_for_each_role(client, auth, users):
    for role in ("agent", "trainer", "lead", "admin"):
        auth.login(users[role])
        response = client.get("/")
        assert response.status_code == 200
        assert users[role].display_name in response.get_data(as_text=True)
        auth.logout()
