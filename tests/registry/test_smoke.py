def test_owner_can_create_a_model_and_read_it_back(api):
    assert api.post("registered-models/create", name="fraud").status_code == 200
    response = api.get("registered-models/get", name="fraud")
    assert response.status_code == 200
    assert response.json_body["registered_model"]["name"] == "fraud"
